"""Ensembles (ours; MED, the shared-task winner, decoded with five models):
several models predict as one.

At every decoder step the members' next-character distributions are averaged,
p(c) = mean_m p_m(c), so beam search ranks hypotheses by the log-probability
of that mixture, with no Python loop over members' hypotheses: they share the
beam. The tag classifier q(y|x) is the mixture too (``analyze``, partial
tags); the terms reranking adds, log q(y|x') and the round trip
log p(x_s|x'), are the members' mean log-scores.

Members must share the tag dimensions and values; their character
vocabularies may differ (models trained on other files of one language, such
as SIGMORPHON 2016's task 3 and tasks 1-3): the ensemble's is their union,
each member reads the characters it knows (UNK for the others) and gives
probability 0 to those it never saw. The first member gives the tag bundles
seen in training and the reranking weights, unless others are passed.

``reinflect ensemble`` chooses reranking weights for the ensemble itself on a
dev file and writes them, with the members' paths (relative to it), to a
manifest ``OUT/ensemble.json``; ``--model OUT`` (or :func:`reinflect.morph.predict.load`) then loads
the ensemble with those weights.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import torch
from torch.nn import functional as F

from reinflect import checkpoint
from reinflect.errors import ReinflectError
from reinflect.morph import predict, torch_engine, vocab


class EnsembleDecoder:
    """``decode_step`` and ``reorder`` (see :mod:`~reinflect.morph.decoding`) of
    several models over one joint state: member ``i``'s key ``k`` is ``k@i``.

    ``maps[i]``, where member ``i``'s characters are not the ensemble's: (its id
    of each ensemble character, UNK where it has none; the ensemble id of each
    of its characters); None where the vocabularies are the same."""

    def __init__(self, models, maps=None, size: int | None = None) -> None:
        self.models = list(models)
        self.maps = maps or [None] * len(self.models)
        self.size = size

    @staticmethod
    def join(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {f"{k}@{i}": v for i, s in enumerate(states) for k, v in s.items()}

    def split(self, state: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        parts: list[dict[str, torch.Tensor]] = [{} for _ in self.models]
        for key, v in state.items():
            k, _, i = key.rpartition("@")
            parts[int(i)][k] = v
        return parts

    def _member_step(self, model, state, tokens, rows, maps):
        if maps is None:
            return model.decode_step(state, tokens, rows)
        to_member, to_ensemble = maps
        # A character copied past the ensemble's vocabulary: past the member's too
        # (which reads it as a dropped input).
        known = tokens < len(to_member)
        mine = torch.where(known, to_member[tokens.clamp_max(len(to_member) - 1)], len(to_ensemble))
        logp, state = model.decode_step(state, mine, rows)
        # Copied unknown characters (columns past a member's vocabulary) do not
        # come through an ensemble of different vocabularies.
        logp = logp[..., : len(to_ensemble)]
        full = logp.new_full((*logp.shape[:-1], self.size), -math.inf)
        return full.index_copy_(-1, to_ensemble, logp), state

    def decode_step(self, state, tokens: torch.Tensor, rows: torch.Tensor | None = None):
        parts = zip(self.models, self.split(state), self.maps, strict=True)
        steps = [self._member_step(m, s, tokens, rows, maps) for m, s, maps in parts]
        # Members that copy may score characters past the vocabulary; others give them 0.
        width = max(lp.shape[-1] for lp, _ in steps)
        steps = [(F.pad(lp, (0, width - lp.shape[-1]), value=-math.inf), s) for lp, s in steps]
        logp = torch.stack([lp for lp, _ in steps]).logsumexp(0) - math.log(len(steps))
        return logp, self.join([s for _, s in steps])

    def reorder(self, state, index: torch.Tensor, *, hypotheses_only: bool = False):
        return self.join(
            [
                m.reorder(s, index, hypotheses_only=hypotheses_only)
                for m, s in zip(self.models, self.split(state), strict=True)
            ]
        )


def _pieces(v: vocab.Vocab) -> list[str]:
    return [v.sp.id_to_piece(i) for i in range(len(v))]


def _char_maps(members: list[torch_engine.Reinflector]) -> tuple[vocab.Vocab, list]:
    """The ensemble's character vocabulary (the first member's, or the union of
    all where they differ) and each member's maps for :class:`EnsembleDecoder`."""
    pieces = [_pieces(r.vocab) for r in members]
    if all(p == pieces[0] for p in pieces):
        return members[0].vocab, [None] * len(members)
    # sentencepiece keeps a space as the piece "▁"; ids 0-3 are reserved
    chars = {p.replace("▁", " ") for ps in pieces for p in ps[vocab.EOS + 1 :]}
    union = vocab.Vocab.build(sorted(chars))
    everyone = _pieces(union)
    maps = []
    for r, ps in zip(members, pieces, strict=True):
        if ps == everyone:
            maps.append(None)
            continue
        to_member = [r.vocab.sp.piece_to_id(p) for p in everyone]
        to_ensemble = [union.sp.piece_to_id(p) for p in ps]
        maps.append(tuple(torch.tensor(m, device=r.device) for m in (to_member, to_ensemble)))
    return union, maps


def _tag_space(r: torch_engine.Reinflector) -> tuple:
    d = r.schema.to_dict()
    return d["dimensions"], d["values"], d["unimorph"]


def _mean(lists: list[list[float]]) -> list[float]:
    return [sum(xs) / len(xs) for xs in zip(*lists, strict=True)]


class Ensemble(torch_engine.TorchPredictor):
    """Several :class:`~reinflect.morph.torch_engine.Reinflector` that predict as one."""

    def __init__(self, members: list[torch_engine.Reinflector], names: list[str] | None = None):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        names = names or [f"model {i + 1}" for i in range(len(members))]
        first = members[0]
        space = _tag_space(first)
        for r, name in zip(members[1:], names[1:], strict=True):
            if _tag_space(r) != space:
                raise ReinflectError(
                    f"{name} has other tag dimensions or values than {names[0]}: "
                    "ensemble only models with the same tag space"
                )
        self.members = members
        self.vocab, maps = _char_maps(members)
        self.schema = first.schema
        self.setting = first.setting
        # Pairs any member was trained on (the first member's form where they differ).
        self.known = {k: f for r in reversed(members) for k, f in r.known.items()}
        self.decoder = EnsembleDecoder((r.model for r in members), maps, len(self.vocab))
        for r in members:  # the ensemble warns, once, of characters none of them saw
            r.quiet_unknown = True

    def use_rerank(self, record: dict | None) -> None:
        """Rerank with a stored record's weights (a manifest's); None keeps the
        first member's."""
        if record is not None:
            self.setting = predict.stored_rerank(record)

    def start(self, words: list[str], bundles: list[dict[str, str]]) -> dict[str, torch.Tensor]:
        self.warn_unknown(words)
        return EnsembleDecoder.join([r.start(words, bundles) for r in self.members])

    def tag_log_probs(self, word: str) -> list[list[float]]:
        self.warn_unknown([word])
        per = [r.tag_log_probs(word) for r in self.members]  # member x dimension x value
        n = math.log(len(per))
        return [
            (torch.tensor([p[k] for p in per]).logsumexp(0) - n).tolist()
            for k in range(len(per[0]))
        ]

    def bundle_log_probs(self, words, bundles) -> list[float]:
        self.warn_unknown(words)
        return _mean([r.bundle_log_probs(words, bundles) for r in self.members])

    def roundtrip_log_probs(self, sources, forms) -> list[float]:
        return _mean([r.roundtrip_log_probs(sources, forms) for r in self.members])

    def hypothesis_scores(self, sources, forms, bundles, *, roundtrip: bool):
        scores = [
            r.hypothesis_scores(sources, forms, bundles, roundtrip=roundtrip) for r in self.members
        ]
        return _mean([q for q, _ in scores]), _mean([v for _, v in scores])


MANIFEST_KIND = "reinflect-ensemble"


def write_manifest(out: str | os.PathLike, members: list, rerank: dict | None) -> Path:
    """Write ``out/ensemble.json``: the members' paths relative to ``out`` (the
    folder can move with its members) and the reranking record (as
    :meth:`~reinflect.morph.predict.Predictor.tune_rerank` returns it; None: the
    first member's weights). Returns the manifest's path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / predict.ENSEMBLE_MANIFEST
    record = {
        "kind": MANIFEST_KIND,
        "members": [os.path.relpath(Path(m).resolve(), out.resolve()) for m in members],
        "rerank": rerank,
    }
    text = json.dumps(record, indent=2) + "\n"
    checkpoint.atomic_write(path, lambda f: f.write(text.encode()))
    return path


def read_manifest(path: str | os.PathLike) -> tuple[list[Path], dict | None]:
    """The members' paths (resolved against the manifest's folder) and the
    reranking record of an ensemble manifest."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReinflectError(f"{path}: cannot read the ensemble manifest ({e})") from e
    members = record.get("members") if isinstance(record, dict) else None
    if (
        not isinstance(members, list)
        or record.get("kind") != MANIFEST_KIND
        or not members
        or not all(isinstance(m, str) for m in members)
    ):
        raise ReinflectError(
            f"{path}: not a reinflect ensemble manifest (written by 'reinflect ensemble')"
        )
    paths = [path.parent / m for m in members]
    nested = next((p for p in paths if predict.ensemble_manifest(p)), None)
    if nested is not None:
        raise ReinflectError(f"{path}: member {nested} is itself an ensemble; list its models")
    return paths, record.get("rerank")
