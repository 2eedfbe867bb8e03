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
RERANK_ROUNDTRIPS = config.MorphTrainConfig.rerank_roundtrips
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
    decoder is sure of. With ``rerank_roundtrip`` V the score also gets
    V * log p(x_s|z(x'), y_s), the model reconstructing the source word from the
    hypothesis (the labeled objective's target-to-source term; y_s is the
    source's most probable tag per dimension under q): a hypothesis that lost or
    mangled part of the stem reconstructs its source badly. Training picks the
    weight, floor and round-trip weight on dev (:meth:`tune_rerank`,
    ``RERANK_GRID`` x ``RERANK_FLOORS`` x ``RERANK_ROUNDTRIPS``; all 0 is plain
    beam search) and stores them with the model.
    """

    #: set on an ensemble's members: the ensemble warns of unseen characters
    quiet_unknown = False

    vocab: vocab.Vocab
    schema: tags.Schema
    rerank: float = 0.0
    rerank_floor: float | None = None
    rerank_roundtrip: float = 0.0

    def tag_log_probs(self, word: str) -> list[list[float]]:
        """log q(y_k|x) of ``word``, one list per tag dimension."""
        raise NotImplementedError

    def bundle_log_probs(self, words: list[str], bundles: list[dict[str, str]]) -> list[float]:
        """log q(y|x) = sum_k log q(y_k|x) of each (word, bundle); -inf for an empty word."""
        raise NotImplementedError

    def roundtrip_log_probs(self, sources: list[str], forms: list[str]) -> list[float]:
        """log p(source|z = mu(form), y = the source's most probable tag per
        dimension) of each (source, form); -inf for an empty form."""
        raise NotImplementedError

    def hypothesis_scores(
        self,
        sources: list[str],
        forms: list[str],
        bundles: list[dict[str, str]],
        *,
        roundtrip: bool,
    ) -> tuple[list[float], list[float]]:
        """(log q(bundle|form) per form, log p(source|form) per form, or 0s
        without ``roundtrip``): what reranking adds to each hypothesis."""
        logq = self.bundle_log_probs(forms, bundles)
        return logq, self.roundtrip_log_probs(sources, forms) if roundtrip else [0.0] * len(forms)

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
        rerank_roundtrip: float | None = None,
    ) -> list[list[tuple[str, float]]]:
        """For each (word, target bundle): up to ``nbest`` (form, log p(form|z, y)),
        best first; with reranking on (weights default: the model's) and ``beam``
        > 1 the whole beam is ordered by log p + rerank * max(log q(y|form),
        -rerank_floor) + rerank_roundtrip * log p(word|form) (``rerank_floor``
        default: the model's; ``math.inf``: no floor)."""
        if nbest > beam:
            raise ValueError(f"nbest ({nbest}) cannot exceed the beam size ({beam})")
        weight = self.rerank if rerank is None else rerank
        floor = self.rerank_floor if rerank_floor is None else rerank_floor
        roundtrip = self.rerank_roundtrip if rerank_roundtrip is None else rerank_roundtrip
        if weight < 0 or roundtrip < 0:
            raise ValueError(f"rerank weights must be >= 0, got {weight} and {roundtrip}")
        if floor is not None and floor <= 0:
            raise ValueError(f"the rerank floor must be > 0, got {floor}")
        if not (weight or roundtrip) or beam == 1:
            return self._search(
                words, bundles, beam=beam, nbest=nbest, max_length=max_length, batch_size=batch_size
            )
        scored = self.scored_beams(
            words,
            bundles,
            beam=beam,
            max_length=max_length,
            batch_size=batch_size,
            roundtrip=bool(roundtrip),
        )
        ranked = rank(scored, weight, floor, roundtrip)
        return [[(f, s) for f, s, *_ in hyps[:nbest]] for hyps in ranked]

    def predict_examples(
        self, examples: list[formats.Example], bundles: list[dict[str, str]], **kw
    ) -> list[formats.Example]:
        """The rows with their target forms predicted (the best of :meth:`inflect`
        with ``kw``; "" where there is none)."""
        preds = self.inflect([e.source for e in examples], bundles, **kw)
        return [
            formats.Example(e.source, e.target_tags, p[0][0] if p else "", e.source_tags, e.line)
            for e, p in zip(examples, preds, strict=True)
        ]

    def scored_beams(
        self,
        words,
        bundles,
        *,
        beam: int = 8,
        max_length: int = 50,
        batch_size: int = 256,
        roundtrip: bool = False,
    ) -> list[list[tuple[str, float, float, float]]]:
        """Every hypothesis of the beam as (form, log p(form|z, y), log q(y|form),
        log p(word|form)); the last is computed only with ``roundtrip`` (else 0).

        Hypotheses more than ``RERANK_MARGIN`` nats below the best of their beam
        are not scored (log q = log p(word|form) = -inf: they stay last, in beam
        order). On Turkish, English and Hungarian dev this left the accuracy at
        the chosen weight unchanged (at most 0.12 points at other weights) and
        halved the classifier's work.
        """
        hyps = self._search(
            words, bundles, beam=beam, nbest=beam, max_length=max_length, batch_size=batch_size
        )
        flat = [(i, f) for i, h in enumerate(hyps) for f, s in h if s >= h[0][1] - RERANK_MARGIN]
        q, r = self.hypothesis_scores(
            [words[i] for i, _ in flat],
            [f for _, f in flat],
            [bundles[i] for i, _ in flat],
            roundtrip=roundtrip,
        )
        logq, logr = dict(zip(flat, q, strict=True)), dict(zip(flat, r, strict=True))
        return [
            [(f, s, logq.get((i, f), -math.inf), logr.get((i, f), -math.inf)) for f, s in h]
            for i, h in enumerate(hyps)
        ]

    def tune_rerank(
        self,
        words,
        bundles,
        targets: list[str],
        *,
        beam: int = 8,
        grid=RERANK_GRID,
        floors=RERANK_FLOORS,
        roundtrips=RERANK_ROUNDTRIPS,
    ):
        """Choose the weight of ``grid``, the floor of ``floors`` (None: none) and
        the round-trip weight of ``roundtrips`` with the best exact-match accuracy
        (%) on these (dev) rows; on ties the smallest round-trip weight, then the
        smallest weight, then no floor, then the largest floor. Use them from now
        on and return the record stored with the model: ``{"weight": w, "floor":
        f, "roundtrip": v, "dev_accuracy_beam8": {grid_key(w, f, v): acc, ...}}``."""
        settings = rerank_settings(grid, floors, roundtrips)
        scored = self.scored_beams(words, bundles, beam=beam, roundtrip=any(s[2] for s in settings))
        table = {k: rerank_accuracy(scored, targets, k) for k in settings}
        self.rerank, self.rerank_floor, self.rerank_roundtrip = max(settings, key=table.__getitem__)
        return {
            "weight": self.rerank,
            "floor": self.rerank_floor,
            "roundtrip": self.rerank_roundtrip,
            "dev_accuracy_beam8": {grid_key(*k): acc for k, acc in table.items()},
        }

    def warn_unknown(self, words: list[str]) -> None:
        """One warning per call for the words with characters training never saw,
        each word once per predictor (a dev file decoded three times, or a
        low-resource model, would otherwise repeat hundreds of lines). An
        ensemble's members leave it to the ensemble (``quiet_unknown``)."""
        if self.quiet_unknown:
            return
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


def stored_rerank(record: dict | None) -> tuple[float, float | None, float]:
    """The reranking (weight, floor, round-trip weight) of a model's stored
    record (0: plain beam search; None: no floor; models saved before floors or
    round trips existed have none)."""
    record = record or {}
    floor = record.get("floor")
    return (
        float(record.get("weight", 0.0)),
        None if floor is None else float(floor),
        float(record.get("roundtrip", 0.0)),
    )


def grid_key(weight: float, floor: float | None, roundtrip: float = 0.0) -> str:
    """The key of (weight, floor, round-trip weight) in a stored record's dev
    accuracy table: ``"0.5"`` without a floor, ``"0.5 floor 2"`` with one,
    ``"0.5 floor 2 roundtrip 0.25"`` with a round trip."""
    key = f"{weight:g}" if floor is None else f"{weight:g} floor {floor:g}"
    return key if not roundtrip else f"{key} roundtrip {roundtrip:g}"


def rerank_settings(grid, floors, roundtrips) -> list[tuple[float, float | None, float]]:
    """Every (weight, floor, round-trip weight) to try, in the order ties are
    broken: the smallest round trip (0 always included), then the smallest
    weight, then no floor, then the largest floor (a floor only with a weight)."""
    order = sorted(floors, key=lambda f: -math.inf if f is None else -f)
    return [
        (w, f, v)
        for v in sorted(set(roundtrips) | {0.0})
        for w in sorted(grid)
        for f in (order if w else [None])
    ]


def rerank_accuracy(scored, targets: list[str], setting) -> float:
    """Exact match (%) of the first of each beam of ``scored`` ranked with
    ``setting`` (weight, floor, round-trip weight)."""
    best = [h[0][0] if h else "" for h in rank(scored, *setting)]
    return 100.0 * sum(map(str.__eq__, best, targets)) / max(len(targets), 1)


def rank(
    scored: list[list[tuple[str, float, float, float]]],
    weight: float,
    floor: float | None = None,
    roundtrip: float = 0.0,
):
    """Each list of (form, log p, log q, log p(word|form)) sorted by log p +
    weight * max(log q, -floor) + roundtrip * log p(word|form) (stable;
    unscored hypotheses, log q = -inf, stay last)."""
    if not (weight or roundtrip):
        return scored

    def key(t):
        _, logp, logq, logr = t
        if logq == -math.inf:
            return math.inf
        s = logp + (weight * (logq if floor is None else max(logq, -floor)) if weight else 0.0)
        return -(s + roundtrip * logr if roundtrip else s)

    return [sorted(h, key=key) for h in scored]


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


ENSEMBLE_MANIFEST = "ensemble.json"


def ensemble_manifest(path: str | os.PathLike) -> Path | None:
    """The ensemble manifest (``reinflect ensemble``) that ``path`` names: a run
    directory holding ``ensemble.json``, or a ``.json`` file; None for anything
    else (a model)."""
    path = Path(path)
    if path.is_dir():
        path = path / ENSEMBLE_MANIFEST
    return path if path.suffix == ".json" and path.is_file() else None


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
        self.rerank, self.rerank_floor, self.rerank_roundtrip = stored_rerank(meta.get("rerank"))
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

    def _start(self, word: str, classes: list[int]) -> dict[str, np.ndarray]:
        """The decoder's inputs for one word and the class of each tag dimension:
        z = mu, the present tag vectors, and the source keys and values."""
        w, cfg = self.w, self.cfg
        states, summary = self._encode(word)
        z = (summary @ w["to_z.weight"].T + w["to_z.bias"])[: cfg.latent]
        present = [w[f"tag_tables.{k}"][i] for k, i in enumerate(classes) if i != 0]
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
        source = self.cfg.source_attention
        before = source and self.cfg.source_attention_style == "input"
        if before:  # keyed by the previous state, into the GRU input as well
            ctx.append(self._source_context(s, h))
        c = np.concatenate(ctx, axis=1)
        gi = self._emb_in[tokens] + s["z_in"] + c @ w["gru_ctx.weight"].T
        h = _gru(gi, h @ w["gru_hidden.weight"].T + w["gru_hidden.bias"], h)
        if source and not before:  # keyed by the new state, output layer only
            c = np.concatenate([c, self._source_context(s, h)], axis=1)
        logits = np.concatenate([h, c], axis=1) @ w["out.weight"].T + w["out.bias"]
        return _log_softmax(logits), h

    def _source_context(self, s: dict, h: np.ndarray) -> np.ndarray:
        a = _softmax((h @ self.w["src_query.weight"].T) @ s["src_keys"].T)
        return a @ s["src_values"]

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
            start = self._start(word, self.schema.encode(bundle))
            hyps = self._beam(start, beam, max_length)[:nbest]
            results.append([(self.vocab.decode(ids), s) for ids, s in hyps])
        return results

    def roundtrip_log_probs(self, sources: list[str], forms: list[str]) -> list[float]:
        classes: dict[str, list[int]] = {}  # the source's most probable tag per dimension
        out = []
        for source, form in zip(sources, forms, strict=True):
            if not form:
                out.append(-math.inf)
                continue
            if source not in classes:
                classes[source] = [int(np.argmax(lq)) for lq in self.tag_log_probs(source)]
            s = self._start(form, classes[source])
            h, prev, total = s["h"], BOS, 0.0
            for tok in [*self.vocab.encode(source), EOS]:
                logp, h = self._step(s, h, np.array([prev]))
                total += float(logp[0, tok])
                prev = tok
            out.append(total)
        return out
