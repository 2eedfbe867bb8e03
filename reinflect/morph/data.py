"""Examples -> ``datasets.Dataset`` of ids -> length-bucketed batches.

A labeled split holds ``source``, ``target`` (character ids) and ``tags``
(one class index per tag dimension); an unlabeled split holds ``word``.
Batches group words of similar length so little padding is computed:
indices are shuffled, cut into pools of ``pool`` batches, each pool sorted
by length and cut into batches, and the batches shuffled again.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from reinflect.errors import ReinflectError
from reinflect.morph import formats, tags, vocab


def _check_chars(v: vocab.Vocab, word: str, where: str) -> None:
    if v.unknown_chars(word):
        unk = "".join(sorted(v.unknown_chars(word)))
        raise ReinflectError(f"{where}: characters {unk!r} of {word!r} are not in the vocabulary")


def labeled_dataset(
    examples: Sequence[formats.Example],
    v: vocab.Vocab,
    schema: tags.Schema,
    *,
    where: str = "",
):
    """A ``datasets.Dataset`` with source/target ids and target tag indices."""
    import datasets

    src, tgt, tg = [], [], []
    for ex in examples:
        at = f"{where}:{ex.line}"
        if ex.target is None:
            raise ReinflectError(f"{at}: no target form (a covered test file?)")
        src.append(ex.source)
        tgt.append(ex.target)
        tg.append(schema.encode(tags.parse(ex.target_tags, where=at)))
    return datasets.Dataset.from_dict(
        {"source": v.encode_batch(src), "target": v.encode_batch(tgt), "tags": tg}
    )


def unlabeled_dataset(words: Sequence[str], v: vocab.Vocab):
    import datasets

    return datasets.Dataset.from_dict({"word": v.encode_batch(list(words))})


def pad(seqs: Sequence[Sequence[int]], *, eos: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``B x L`` ids (EOS appended when ``eos``) and lengths ``B``."""
    extra = 1 if eos else 0
    lengths = torch.tensor([len(s) + extra for s in seqs])
    out = torch.full((len(seqs), int(lengths.max())), vocab.PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        if eos:
            out[i, len(s)] = vocab.EOS
    return out, lengths


def bucket_batches(
    lengths: Sequence[int], batch_size: int, *, generator: torch.Generator, pool: int = 50
) -> list[list[int]]:
    """Index batches of similar lengths, in random order (see module docstring)."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator).tolist()
    batches = []
    span = batch_size * pool
    for start in range(0, n, span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    perm = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in perm]


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Deterministic batches of similar length (for evaluation and prediction)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


MATCH_WINDOW = 32  # batches looked ahead by a length-matched take (--match-unlabeled-lengths)


class BatchStream:
    """Bucketed batches forever, reshuffled on every pass, with a position that a
    checkpoint can save and restore exactly (``state_dict``).

    With a ``window`` above 1 (``MATCH_WINDOW`` for --match-unlabeled-lengths),
    ``take(limit)`` matches lengths: of the next ``window`` batches of the pass
    it takes the longest whose longest item fits ``limit`` (the shortest if none
    does), so that the unlabeled words of an update pad the labeled batch they
    are decoded with as little as possible. Every batch is still taken once a
    pass, in an order that departs from the shuffled one only within the window.

    Under data parallelism every rank draws the same global batches (same seed)
    and keeps its own share, rows ``rank::world``; ``last_length`` is the longest
    item of the last global batch, the same on every rank.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        seed: int,
        rank: int = 0,
        world: int = 1,
        window: int = 1,
    ) -> None:
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.rank, self.world = rank, world
        self.window = window
        self.gen = torch.Generator().manual_seed(seed)
        self.last_length = 0
        self._new_pass()

    def _new_pass(self) -> None:
        self.pass_rng = self.gen.get_state()
        self.batches = bucket_batches(self.lengths, self.batch_size, generator=self.gen)
        self.longest = [max(self.lengths[i] for i in b) for b in self.batches]
        self.order = list(range(len(self.batches)))  # the pass's order, as taken so far
        self.pos = 0

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> list[int]:
        return self.take()

    def take(self, limit: int | None = None) -> list[int]:
        """The next batch (this rank's share); with ``limit``, length-matched."""
        if self.pos >= len(self.batches):
            self._new_pass()
        if limit is not None and self.window > 1:
            o = self.order
            ahead = range(self.pos, min(self.pos + self.window, len(o)))
            fits = [j for j in ahead if self.longest[o[j]] <= limit]
            j = (max if fits else min)(fits or ahead, key=lambda j: self.longest[o[j]])
            o[self.pos], o[j] = o[j], o[self.pos]
        k = self.order[self.pos]
        self.pos += 1
        self.last_length = self.longest[k]
        return self.batches[k][self.rank :: self.world]

    def state_dict(self) -> dict:
        return {"pass_rng": self.pass_rng, "pos": self.pos, "order": list(self.order)}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["pass_rng"])
        self._new_pass()
        self.pos = state["pos"]
        self.order = list(state.get("order", self.order))  # older checkpoints: unmatched
