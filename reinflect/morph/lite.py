"""Prediction without torch: the trained MSVED in numpy, for a fast cold start.

``import torch`` alone takes about 1.5 s on a small CPU, longer than the whole
of a one-word prediction needs. Training therefore writes, next to the best
checkpoint ``model.pt``, ``model.npz``: the same weights as float32 arrays,
the vocabulary, the tag schema and the model config, plus the sha256 of the
``model.pt`` it was made from. ``reinflect predict WORD`` and
``reinflect analyze`` use it when it belongs to the ``model.pt`` beside it (a
stale one is ignored) and fall back to the torch model otherwise; batch
prediction and evaluation always use torch.

The maths is the plain formulation of :mod:`reinflect.morph.model` (no
precomputed shares: one word at a time, beams of a few rows), and greedy and
beam search follow :mod:`reinflect.morph.decoding` step for step (hypotheses
stop at EOS; finished ones continue with PAD at no cost; beam 1 is greedy).
``tests/test_lite.py`` checks that both engines give the same forms and
log-probabilities.

This module also holds :class:`Predictor`, what both engines share: tag
bundles, partial tags, rendering.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

import numpy as np

from reinflect import checkpoint, config
from reinflect.errors import ReinflectError
from reinflect.morph import formats, tags, vocab
from reinflect.morph.vocab import BOS, EOS, PAD

log = logging.getLogger(__name__)
KIND = "morph"
META, VOCAB = "__meta__", "__vocab__"


RERANK_GRID = config.MorphTrainConfig.rerank_grid
RERANK_FLOORS = config.MorphTrainConfig.rerank_floors
RERANK_MARGIN = 5.0  # nats below the best hypothesis beyond which none is reranked


class Predictor:
    """What prediction does the same way in both engines. Subclasses give
    ``tag_log_probs`` (one word), ``bundle_log_probs`` (many) and ``_search``
    (beam search: for each (word, target bundle), up to ``nbest``
    (form, log-probability), best first).

    Reranking (ours): the beam's hypotheses x' are ordered by
    log p(x'|z, y_t) + ``rerank`` * log q(y_t|x'), the model's own classifier
    checking that a hypothesis carries the tags asked for. This mends the plain
    model's typical error of returning the source unchanged (``keen`` for
    ADJ;SPRL). With ``rerank_floor`` F, log q counts no lower than -F: a
    syncretic form (Turkish *ekseni* is both ACC and PSS3S) gets a confident
    q for its other reading, and the floor keeps that from vetoing a form the
    decoder is sure of. Training picks the weight and floor on dev
    (:meth:`tune_rerank`, ``RERANK_GRID`` x ``RERANK_FLOORS``; weight 0 is plain
    beam search) and stores them with the model.
    """

    vocab: vocab.Vocab
    schema: tags.Schema
    rerank: float = 0.0
    rerank_floor: float | None = None

    def tag_log_probs(self, word: str) -> list[list[float]]:
        """log q(y_k|x) of ``word``, one list per tag dimension."""
        raise NotImplementedError

    def bundle_log_probs(self, words: list[str], bundles: list[dict[str, str]]) -> list[float]:
        """log q(y|x) = sum_k log q(y_k|x) of each (word, bundle); -inf for an empty word."""
        raise NotImplementedError

    def _search(self, words, bundles, *, beam: int, nbest: int, max_length: int, batch_size: int):
        raise NotImplementedError

    def inflect(
        self,
        words: list[str],
        bundles: list[dict[str, str]],
        *,
        beam: int = 8,
        nbest: int = 1,
        max_length: int = 50,
        batch_size: int = 256,
        rerank: float | None = None,
        rerank_floor: float | None = None,
    ) -> list[list[tuple[str, float]]]:
        """For each (word, target bundle): up to ``nbest`` (form, log p(form|z, y)),
        best first; with ``rerank`` > 0 (default: the model's) and ``beam`` > 1 the
        whole beam is ordered by log p + rerank * max(log q(y|form), -rerank_floor)
        (``rerank_floor`` default: the model's; ``math.inf``: no floor)."""
        if nbest > beam:
            raise ValueError(f"nbest ({nbest}) cannot exceed the beam size ({beam})")
        weight = self.rerank if rerank is None else rerank
        floor = self.rerank_floor if rerank_floor is None else rerank_floor
        if weight < 0:
            raise ValueError(f"the rerank weight must be >= 0, got {weight}")
        if floor is not None and floor <= 0:
            raise ValueError(f"the rerank floor must be > 0, got {floor}")
        if not weight or beam == 1:
            return self._search(
                words, bundles, beam=beam, nbest=nbest, max_length=max_length, batch_size=batch_size
            )
        scored = self.scored_beams(
            words, bundles, beam=beam, max_length=max_length, batch_size=batch_size
        )
        return [[(f, s) for f, s, _ in hyps[:nbest]] for hyps in rank(scored, weight, floor)]

    def scored_beams(
        self, words, bundles, *, beam: int = 8, max_length: int = 50, batch_size: int = 256
    ) -> list[list[tuple[str, float, float]]]:
        """Every hypothesis of the beam as (form, log p(form|z, y), log q(y|form)).

        Hypotheses more than ``RERANK_MARGIN`` nats below the best of their beam
        are not scored (log q = -inf: they stay last, in beam order). On Turkish,
        English and Hungarian dev this left the accuracy at the chosen weight
        unchanged (at most 0.12 points at other weights) and halved the
        classifier's work.
        """
        hyps = self._search(
            words, bundles, beam=beam, nbest=beam, max_length=max_length, batch_size=batch_size
        )
        flat = [(i, f) for i, h in enumerate(hyps) for f, s in h if s >= h[0][1] - RERANK_MARGIN]
        scored = self.bundle_log_probs([f for _, f in flat], [bundles[i] for i, _ in flat])
        logq = dict(zip(flat, scored, strict=True))
        return [[(f, s, logq.get((i, f), -math.inf)) for f, s in h] for i, h in enumerate(hyps)]

    def tune_rerank(
        self,
        words,
        bundles,
        targets: list[str],
        *,
        beam: int = 8,
        grid=RERANK_GRID,
        floors=RERANK_FLOORS,
    ):
        """Choose the weight of ``grid`` and the floor of ``floors`` (None: none)
        with the best exact-match accuracy (%) on these (dev) rows; on ties the
        smallest weight, then no floor, then the largest floor. Use them from now
        on and return the record stored with the model: ``{"weight": w, "floor":
        f, "dev_accuracy_beam8": {grid_key(w, f): acc, ...}}``."""
        scored = self.scored_beams(words, bundles, beam=beam)
        table = {}
        order = sorted(floors, key=lambda f: -math.inf if f is None else -f)
        for weight in sorted(grid):
            for floor in order if weight else [None]:
                best = [h[0][0] if h else "" for h in rank(scored, weight, floor)]
                acc = 100.0 * sum(map(str.__eq__, best, targets)) / max(len(targets), 1)
                table[weight, floor] = acc
        top = max(table.values())
        self.rerank, self.rerank_floor = next(k for k, acc in table.items() if acc == top)
        return {
            "weight": self.rerank,
            "floor": self.rerank_floor,
            "dev_accuracy_beam8": {grid_key(w, f): acc for (w, f), acc in table.items()},
        }

    def warn_unknown(self, words: list[str]) -> None:
        """One warning per call for the words with characters training never saw,
        each word once per predictor (a dev file decoded three times, or a
        low-resource model, would otherwise repeat hundreds of lines)."""
        warned = self.__dict__.setdefault("_warned_words", set())
        new = [w for w in dict.fromkeys(words) if w not in warned and self.vocab.unknown_chars(w)]
        if not new:
            return
        warned.update(new)
        unk = "".join(sorted(set().union(*map(self.vocab.unknown_chars, new))))
        if len(new) == 1:
            log.warning("characters %r of %r were not seen in training", unk, new[0])
        else:
            shown = ", ".join(map(repr, new[:3])) + (", ..." if len(new) > 3 else "")
            log.warning(
                "%d words have characters not seen in training (%r): %s", len(new), unk, shown
            )

    def analyze(self, word: str, *, top: int = 5) -> list[tuple[dict[str, str], float]]:
        """The ``top`` training tag bundles ranked by q(y|x) = prod_k q(y_k|x), with
        probabilities renormalized over the bundles seen in training."""
        logq = self.tag_log_probs(word)
        scored = []
        for bundle in self.schema.bundles:
            enc = self.schema.encode(dict(bundle))
            scored.append((sum(lq[i] for lq, i in zip(logq, enc, strict=True)), dict(bundle)))
        scored.sort(key=lambda t: -t[0])
        best = scored[0][0]
        norm = best + math.log(sum(math.exp(s - best) for s, _ in scored))
        return [(b, math.exp(s - norm)) for s, b in scored[:top]]

    def target_bundle(self, word: str, raw_tags: str) -> tuple[dict[str, str], bool]:
        """The bundle to generate: ``raw_tags`` itself when it is a full bundle seen in
        training, else (partial tags) the source's analysis with those dimensions
        changed, resolved to a seen bundle. Returns (bundle, was_partial).
        """
        change = tags.parse(raw_tags)
        if tuple(sorted(change.items())) in self.schema.bundles:
            return change, False
        for dim, val in change.items():  # validates dimensions and values with clear errors
            self.schema.encode({dim: val})
        source = self.analyze(word, top=1)[0][0]
        return self.schema.resolve(source, change), True

    def file_bundles(self, examples: list[formats.Example], path) -> list[dict[str, str]]:
        """The target bundle of every row of ``path``, checked against the schema;
        an unknown dimension or value is an error naming ``path:line``."""
        bundles = []
        for e in examples:
            where = f"{path}:{e.line}"
            b = tags.parse(e.target_tags, where=where)
            try:
                self.schema.encode(b)
            except ReinflectError as err:
                raise ReinflectError(f"{where}: {err}") from None
            bundles.append(b)
        return bundles

    def render(self, bundle: dict[str, str]) -> str:
        return tags.render(bundle, unimorph=self.schema.unimorph)


def stored_rerank(record: dict | None) -> tuple[float, float | None]:
    """The reranking (weight, floor) of a model's stored record (0: plain beam
    search; None: no floor, also for models saved before floors existed)."""
    record = record or {}
    floor = record.get("floor")
    return float(record.get("weight", 0.0)), None if floor is None else float(floor)


def grid_key(weight: float, floor: float | None) -> str:
    """The key of (weight, floor) in a stored record's dev accuracy table:
    ``"0.5"`` without a floor, ``"0.5 floor 2"`` with one."""
    return f"{weight:g}" if floor is None else f"{weight:g} floor {floor:g}"


def rank(scored: list[list[tuple[str, float, float]]], weight: float, floor: float | None = None):
    """Each list of (form, log p, log q) sorted by log p + weight * max(log q,
    -floor) (stable; an unscored log q of -inf stays -inf)."""
    if not weight:
        return scored

    def score(t):
        q = t[2] if floor is None or t[2] == -math.inf else max(t[2], -floor)
        return -(t[1] + weight * q)

    return [sorted(h, key=score) for h in scored]


# -- the file ---------------------------------------------------------------------


def export(payload: dict, path: str | os.PathLike, *, source: str | os.PathLike) -> None:
    """Write ``path`` (``.npz``) from a morph checkpoint ``payload`` (torch tensors)
    that was saved as ``source``; atomic, like the checkpoint."""
    meta = {
        "format_version": checkpoint.FORMAT_VERSION,
        "kind": KIND,
        "model_config": payload["model_config"],
        "schema": payload["schema"],
        "step": payload.get("step"),
        "rerank": payload.get("rerank", {}),
        "checkpoint_sha256": checkpoint.sha256_of(source),
    }
    arrays = {k: v.detach().float().cpu().numpy() for k, v in payload["model"].items()}
    arrays[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays[VOCAB] = np.frombuffer(payload["vocab"], dtype=np.uint8)
    checkpoint.atomic_write(path, lambda f: np.savez(f, **arrays))


def companion(checkpoint_path: str | os.PathLike) -> Path | None:
    """The ``model.npz`` that belongs to ``checkpoint_path`` (same directory, made
    from exactly that file, or alone there), or None."""
    checkpoint_path = Path(checkpoint_path)
    npz = checkpoint_path.with_suffix(".npz")
    if not npz.is_file():
        return None
    if not checkpoint_path.exists():
        return npz
    try:
        with np.load(npz, allow_pickle=False) as f:
            meta = json.loads(f[META].tobytes())
    except Exception:  # damaged or foreign: the torch checkpoint still works
        return None
    return npz if meta.get("checkpoint_sha256") == checkpoint.sha256_of(checkpoint_path) else None


# -- the model ----------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gru(gi: np.ndarray, gh: np.ndarray, h: np.ndarray) -> np.ndarray:
    """torch's GRU cell from the input and hidden projections (gates r, u, n)."""
    D = h.shape[-1]
    r = _sigmoid(gi[..., :D] + gh[..., :D])
    u = _sigmoid(gi[..., D : 2 * D] + gh[..., D : 2 * D])
    n = np.tanh(gi[..., 2 * D :] + r * gh[..., 2 * D :])
    return (1.0 - u) * n + u * h


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class LiteReinflector(Predictor):
    """A trained MSVED from ``model.npz``, computed with numpy."""

    def __init__(self, weights: dict[str, np.ndarray], meta: dict, proto: bytes) -> None:
        self.w = weights
        self.cfg = config.MorphModelConfig(**meta["model_config"])
        self.schema = tags.Schema.from_dict(meta["schema"])
        self.vocab = vocab.Vocab(proto)
        self.rerank, self.rerank_floor = stored_rerank(meta.get("rerank"))
        w = weights
        self._emb_in = w["embed.weight"] @ w["gru_emb.weight"].T  # V x 3D

    @classmethod
    def load(cls, path: str | os.PathLike) -> LiteReinflector:
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            meta = json.loads(arrays.pop(META).tobytes())
            proto = arrays.pop(VOCAB).tobytes()
        except Exception as e:
            raise ReinflectError(
                f"{path}: not a readable reinflect model ({type(e).__name__})"
            ) from e
        if meta.get("kind") != KIND or meta.get("format_version") != checkpoint.FORMAT_VERSION:
            raise ReinflectError(f"{path}: not a reinflect {KIND} model of this version")
        return cls(arrays, meta, proto)

    # -- encoder -------------------------------------------------------------------

    def _encode(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """(states ``L x 2H``, summary ``2H``) of the bidirectional GRU."""
        w = self.w
        ids = self.vocab.encode(word)
        x = w["embed.weight"][ids]
        H = w["encoder.weight_hh_l0"].shape[1]
        runs = []
        for suffix, order in (("", range(len(ids))), ("_reverse", range(len(ids))[::-1])):
            gi = x @ w[f"encoder.weight_ih_l0{suffix}"].T + w[f"encoder.bias_ih_l0{suffix}"]
            w_hh, b_hh = w[f"encoder.weight_hh_l0{suffix}"], w[f"encoder.bias_hh_l0{suffix}"]
            h = np.zeros(H, dtype=np.float32)
            states = np.zeros((len(ids), H), dtype=np.float32)
            for t in order:
                h = _gru(gi[t], h @ w_hh.T + b_hh, h)
                states[t] = h
            runs.append((states, h))
        (fwd, h_f), (bwd, h_b) = runs
        return np.concatenate([fwd, bwd], axis=1), np.concatenate([h_f, h_b])

    def tag_log_probs(self, word: str) -> list[list[float]]:
        _, h = self._encode(word)
        return [
            _log_softmax(h @ self.w[f"y_heads.{k}.weight"].T + self.w[f"y_heads.{k}.bias"]).tolist()
            for k in range(len(self.schema.sizes))
        ]

    def bundle_log_probs(self, words: list[str], bundles: list[dict[str, str]]) -> list[float]:
        out = []
        for word, bundle in zip(words, bundles, strict=True):
            if not word:
                out.append(-math.inf)
                continue
            logq = self.tag_log_probs(word)
            out.append(sum(lq[i] for lq, i in zip(logq, self.schema.encode(bundle), strict=True)))
        return out

    # -- decoder ---------------------------------------------------------------------

    def _start(self, word: str, bundle: dict[str, str]) -> dict[str, np.ndarray]:
        """The decoder's inputs for one (word, bundle): z = mu, the present tag
        vectors, and the source keys and values."""
        w, cfg = self.w, self.cfg
        states, summary = self._encode(word)
        z = (summary @ w["to_z.weight"].T + w["to_z.bias"])[: cfg.latent]
        present = [
            w[f"tag_tables.{k}"][i] for k, i in enumerate(self.schema.encode(bundle)) if i != 0
        ]
        vecs = np.array(present, dtype=np.float32).reshape(len(present), cfg.tag_embedding)
        e_y = np.tanh(vecs.sum(0) + w["tag_bias"])
        start = {
            "h": np.tanh(np.concatenate([z, e_y]) @ w["init.weight"].T + w["init.bias"])[None],
            "z_in": z @ w["gru_z.weight"].T + w["gru_z.bias"],
            "tags": vecs,
        }
        if cfg.source_attention:
            start["src_keys"] = states @ w["src_key.weight"].T
            start["src_values"] = states @ w["src_value.weight"].T
        return start

    def _step(self, s: dict, h: np.ndarray, tokens: np.ndarray):
        """Rows ``h`` (N x D) after ``tokens`` -> (log-probabilities N x V, new h)."""
        w = self.w
        tag_vecs = s["tags"]
        if len(tag_vecs):
            a = _softmax((h @ w["tag_query.weight"].T) @ tag_vecs.T)
            ctx = [a @ tag_vecs]
        else:  # no tag present: a zero context
            ctx = [np.zeros((len(h), tag_vecs.shape[1]), dtype=np.float32)]
        if self.cfg.source_attention:
            a = _softmax((h @ w["src_query.weight"].T) @ s["src_keys"].T)
            ctx.append(a @ s["src_values"])
        c = np.concatenate(ctx, axis=1)
        gi = self._emb_in[tokens] + s["z_in"] + c @ w["gru_ctx.weight"].T
        h = _gru(gi, h @ w["gru_hidden.weight"].T + w["gru_hidden.bias"], h)
        logits = np.concatenate([h, c], axis=1) @ w["out.weight"].T + w["out.bias"]
        return _log_softmax(logits), h

    def _beam(self, s: dict, beam: int, max_length: int) -> list[tuple[list[int], float]]:
        """Beam search for one input, as :func:`reinflect.morph.decoding.beam_search`."""
        K = beam
        h = np.repeat(s["h"], K, axis=0)
        scores = np.full(K, -np.inf, dtype=np.float32)
        scores[0] = 0.0
        tokens = np.full(K, BOS, dtype=np.int64)
        finished = np.zeros(K, dtype=bool)
        history = np.zeros((K, 0), dtype=np.int64)
        for _ in range(max_length):
            live = ~finished & (scores > -np.inf)
            logp_live, h_live = self._step(s, h[live], tokens[live])
            V = logp_live.shape[1]
            logp = np.full((K, V), -np.inf, dtype=np.float32)
            logp[:, PAD] = 0.0
            logp[live] = logp_live
            h = h.copy()
            h[live] = h_live
            cand = (scores[:, None] + logp).reshape(-1)
            flat = np.argsort(-cand, kind="stable")[:K]
            scores = cand[flat]
            origin, tok = flat // V, flat % V
            h = h[origin]
            history = np.concatenate([history[origin], tok[:, None]], axis=1)
            finished = finished[origin] | (tok == EOS)
            tokens = tok
            if finished.all():
                break
        return [
            ([int(t) for t in history[k] if t not in (PAD, EOS)], float(scores[k]))
            for k in range(K)
            if scores[k] > -np.inf
        ]

    def _search(self, words, bundles, *, beam: int, nbest: int, max_length: int, batch_size: int):
        self.warn_unknown(words)
        results = []
        for word, bundle in zip(words, bundles, strict=True):
            hyps = self._beam(self._start(word, bundle), beam, max_length)[:nbest]
            results.append([(self.vocab.decode(ids), s) for ids, s in hyps])
        return results
