"""Character vocabulary: a sentencepiece character model, saved with the model.

sentencepiece is used with ``model_type="char"``, identity normalization and
no dummy whitespace prefix, so a word maps to its characters one to one
(spaces inside multi-word forms become the piece ``▁`` and come back on
decoding). Ids 0-3 are reserved: PAD, UNK, BOS, EOS.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

PAD, UNK, BOS, EOS = 0, 1, 2, 3


class Vocab:
    """Characters <-> ids; ``proto`` is the serialized sentencepiece model."""

    def __init__(self, proto: bytes) -> None:
        import sentencepiece as spm

        self.proto = proto
        self.sp = spm.SentencePieceProcessor(model_proto=proto)

    @classmethod
    def build(cls, words: Iterable[str]) -> Vocab:
        import sentencepiece as spm

        words = [w for w in words if w]
        chars = {c for w in words for c in w}
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sorted(set(words))),
            model_writer=buf,
            model_type="char",
            character_coverage=1.0,
            normalization_rule_name="identity",
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            split_by_whitespace=False,
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            vocab_size=len(chars) + 5,
            hard_vocab_limit=False,
            minloglevel=2,
            num_threads=1,
        )
        return cls(buf.getvalue())

    def __len__(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, word: str) -> list[int]:
        """Character ids of ``word``, one per character (no BOS/EOS); unseen
        characters become UNK."""
        return self._one_per_character(word, self.sp.encode(word))

    def encode_batch(self, words: list[str]) -> list[list[int]]:
        return [
            self._one_per_character(w, ids)
            for w, ids in zip(words, self.sp.encode(words), strict=True)
        ]

    def _one_per_character(self, word: str, ids: list[int]) -> list[int]:
        # sentencepiece gives a run of unseen characters one UNK; copying needs one each.
        if UNK not in ids:
            return ids
        return [self.sp.piece_to_id("▁" if c == " " else c) for c in word]

    def decode(self, ids: Iterable[int], source: str = "") -> str:
        """Ids back to a word; stops at EOS, skips PAD and BOS. Ids past the
        vocabulary are characters a copy brought from ``source``: ``len(self) + k``
        is its k-th distinct unknown character (see :meth:`copy_ids`)."""
        V = len(self)
        out, run, unknown = [], [], None
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i >= V:
                if unknown is None:
                    unknown = self.copy_ids(source)[1]
                out += [self.sp.decode(run), unknown[i - V]]
                run = []
            elif i not in (PAD, BOS):
                run.append(i)
        return "".join(out) + self.sp.decode(run)

    def copy_ids(self, word: str) -> tuple[list[int], list[str]]:
        """The ids a copying decoder copies from ``word``: its characters' ids,
        but ``len(self) + k`` for the k-th distinct character the vocabulary does
        not know; and those characters, in that order (for :meth:`decode`)."""
        ids = self.encode(word)
        if UNK not in ids:
            return ids, []
        unknown = list(dict.fromkeys(c for c, i in zip(word, ids, strict=True) if i == UNK))
        V = len(self)
        return [V + unknown.index(c) if i == UNK else i for c, i in zip(word, ids, strict=True)], (
            unknown
        )

    def target_ids(self, form: str, source: str) -> list[int]:
        """Character ids of ``form`` as a copying decoder emits them from
        ``source``: a character the vocabulary does not know has its copy id
        from ``source`` (:meth:`copy_ids`), or UNK where ``source`` lacks it."""
        ids = self.encode(form)
        if UNK not in ids:
            return ids
        unknown = self.copy_ids(source)[1]
        V = len(self)
        return [
            V + unknown.index(c) if i == UNK and c in unknown else i
            for c, i in zip(form, ids, strict=True)
        ]

    def unknown_chars(self, word: str) -> set[str]:
        """Characters of ``word`` the vocabulary does not know."""
        # sentencepiece stores a space as the piece "▁"
        return {c for c in word if self.sp.piece_to_id("▁" if c == " " else c) == UNK}

    def knows(self, word: str) -> bool:
        return not self.unknown_chars(word)
