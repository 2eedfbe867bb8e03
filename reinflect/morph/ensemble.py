"""Ensembles (ours; MED, the shared-task winner, decoded with five models):
several models trained on the same data predict as one.

At every decoder step the members' next-character distributions are averaged,
p(c) = mean_m p_m(c), so beam search ranks hypotheses by the log-probability
of that mixture, with no Python loop over members' hypotheses: they share the
beam. The tag classifier q(y|x) is the mixture too (``analyze``, partial
tags); the terms reranking adds, log q(y|x') and the round trip
log p(x_s|x'), are the members' mean log-scores.

Members must share the character vocabulary and the tag dimensions and values
(the same training data gives the same ones); the first member gives the tag
bundles seen in training and the reranking weights, unless others are passed.
"""

from __future__ import annotations

import math
import os

import torch

from reinflect.errors import ReinflectError
from reinflect.morph import inference, lite


class EnsembleDecoder:
    """``decode_step`` and ``reorder`` (see :mod:`~reinflect.morph.decoding`) of
    several models over one joint state: member ``i``'s key ``k`` is ``k@i``."""

    def __init__(self, models) -> None:
        self.models = list(models)

    @staticmethod
    def join(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return {f"{k}@{i}": v for i, s in enumerate(states) for k, v in s.items()}

    def split(self, state: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        parts: list[dict[str, torch.Tensor]] = [{} for _ in self.models]
        for key, v in state.items():
            k, _, i = key.rpartition("@")
            parts[int(i)][k] = v
        return parts

    def decode_step(self, state, tokens: torch.Tensor, rows: torch.Tensor | None = None):
        parts = zip(self.models, self.split(state), strict=True)
        steps = [m.decode_step(s, tokens, rows) for m, s in parts]
        logp = torch.stack([lp for lp, _ in steps]).logsumexp(0) - math.log(len(steps))
        return logp, self.join([s for _, s in steps])

    def reorder(self, state, index: torch.Tensor, *, hypotheses_only: bool = False):
        return self.join(
            [
                m.reorder(s, index, hypotheses_only=hypotheses_only)
                for m, s in zip(self.models, self.split(state), strict=True)
            ]
        )


def _pieces(r: inference.Reinflector) -> list[str]:
    return [r.vocab.sp.id_to_piece(i) for i in range(len(r.vocab))]


def _tag_space(r: inference.Reinflector) -> tuple:
    d = r.schema.to_dict()
    return d["dimensions"], d["values"], d["unimorph"]


def _mean(lists: list[list[float]]) -> list[float]:
    return [sum(xs) / len(xs) for xs in zip(*lists, strict=True)]


class Ensemble(inference.TorchPredictor):
    """Several :class:`~reinflect.morph.inference.Reinflector` that predict as one."""

    def __init__(self, members: list[inference.Reinflector], names: list[str] | None = None):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        names = names or [f"model {i + 1}" for i in range(len(members))]
        first = members[0]
        pieces, space = _pieces(first), _tag_space(first)
        for r, name in zip(members[1:], names[1:], strict=True):
            if _pieces(r) != pieces:
                raise ReinflectError(
                    f"{name} has another character vocabulary than {names[0]}: "
                    "ensemble only models trained on the same data"
                )
            if _tag_space(r) != space:
                raise ReinflectError(
                    f"{name} has other tag dimensions or values than {names[0]}: "
                    "ensemble only models trained on the same data"
                )
        self.members = members
        self.vocab, self.schema = first.vocab, first.schema
        self.rerank, self.rerank_floor = first.rerank, first.rerank_floor
        self.rerank_roundtrip = first.rerank_roundtrip
        self.decoder = EnsembleDecoder(r.model for r in members)

    def start(self, words: list[str], bundles: list[dict[str, str]]) -> dict[str, torch.Tensor]:
        return EnsembleDecoder.join([r.start(words, bundles) for r in self.members])

    def tag_log_probs(self, word: str) -> list[list[float]]:
        per = [r.tag_log_probs(word) for r in self.members]  # member x dimension x value
        n = math.log(len(per))
        return [
            (torch.tensor([p[k] for p in per]).logsumexp(0) - n).tolist()
            for k in range(len(per[0]))
        ]

    def bundle_log_probs(self, words, bundles) -> list[float]:
        return _mean([r.bundle_log_probs(words, bundles) for r in self.members])

    def roundtrip_log_probs(self, sources, forms) -> list[float]:
        return _mean([r.roundtrip_log_probs(sources, forms) for r in self.members])

    def hypothesis_scores(self, sources, forms, bundles, *, roundtrip: bool):
        scores = [
            r.hypothesis_scores(sources, forms, bundles, roundtrip=roundtrip) for r in self.members
        ]
        return _mean([q for q, _ in scores]), _mean([v for _, v in scores])


def load(paths: list[str | os.PathLike], device: str = "cpu") -> lite.Predictor:
    """The model at the one path, or the ensemble of several."""
    if len(paths) == 1:
        return inference.Reinflector.load(paths[0], device)
    return Ensemble([inference.Reinflector.load(p, device) for p in paths], list(map(str, paths)))
