"""The numpy engine: a trained MSVED from ``model.npz``, without torch.

``import torch`` alone takes about 1.5 s on a small CPU, longer than the whole
of a one-word prediction needs, so ``reinflect predict WORD`` and
``reinflect analyze`` read the float32 twin that training writes beside
``model.pt`` (:mod:`reinflect.morph.checkpoint`). The maths is the plain
formulation of :mod:`reinflect.morph.model` (one word at a time, beams of a
few rows), and greedy and beam search follow
:mod:`reinflect.morph.decoding` step for step (hypotheses stop at EOS;
finished ones continue with PAD at no cost; beam 1 is greedy).
``tests/test_engines.py`` checks on random weights, over every model option,
that both engines give the same forms and log-probabilities.

The engine refuses (:class:`Unsupported`) a model with weights or model
options it does not know, so a change to the torch model can never be
silently ignored here; :func:`reinflect.morph.predict.load` then falls back
to torch.
"""

from __future__ import annotations

import math
import os

import numpy as np

from reinflect import config
from reinflect.errors import ReinflectError
from reinflect.morph import checkpoint, predict, tags, vocab
from reinflect.morph.vocab import BOS, EOS, PAD, UNK

TINY = 1e-30  # as reinflect.morph.model.TINY: the least probability of a copying decoder
HYPOTHESIS = ("h", "align", "emit")  # as reinflect.morph.model.HYPOTHESIS

# The model options this engine computes, and those that only shape training.
INFERENCE_OPTIONS = frozenset(
    {
        "char_embedding",
        "encoder_hidden",
        "latent",
        "tag_embedding",
        "decoder_hidden",
        "source_attention",
        "source_attention_dim",
        "source_attention_style",
        "copy",
    }
)
TRAINING_OPTIONS = frozenset({"word_dropout", "dropout"})


class Unsupported(ReinflectError):
    """A model this engine cannot compute (weights or options it does not know)."""


def expected_weights(cfg: config.MorphModelConfig, n_dims: int) -> set[str]:
    """The names of the weights this engine reads for ``cfg`` and ``n_dims`` tag dimensions."""
    names = {"embed.weight", "to_z.weight", "to_z.bias", "tag_bias", "init.weight", "init.bias"}
    names |= {"tag_query.weight", "gru_emb.weight", "gru_z.weight", "gru_z.bias"}
    names |= {"gru_ctx.weight", "gru_hidden.weight", "gru_hidden.bias", "out.weight", "out.bias"}
    for suffix in ("", "_reverse"):
        names |= {
            f"encoder.{p}_l0{suffix}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
    for k in range(n_dims):
        names |= {f"y_heads.{k}.weight", f"y_heads.{k}.bias", f"tag_tables.{k}"}
    if cfg.source_attention:
        names |= {"src_query.weight", "src_key.weight", "src_value.weight"}
    if cfg.copy:
        names |= {"copy_gate.weight", "copy_gate.bias"}
    return names


def check_supported(path, weights: dict, meta: dict) -> None:
    """Raise :class:`Unsupported`, naming them, for options or weights this engine
    does not know, or weights it needs that are missing."""
    options = set(meta["model_config"]) - INFERENCE_OPTIONS - TRAINING_OPTIONS
    if options:
        raise Unsupported(
            f"{path}: the numpy engine does not know the model options {', '.join(sorted(options))}"
        )
    cfg = config.MorphModelConfig(**meta["model_config"])
    expected = expected_weights(cfg, len(meta["schema"]["dimensions"]))
    unknown, missing = set(weights) - expected, expected - set(weights)
    if unknown:
        raise Unsupported(
            f"{path}: the numpy engine does not know the weights {', '.join(sorted(unknown))}"
        )
    if missing:
        raise Unsupported(f"{path}: weights missing: {', '.join(sorted(missing))}")


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


class NumpyReinflector(predict.Predictor):
    """A trained MSVED from ``model.npz``, computed with numpy."""

    def __init__(self, weights: dict[str, np.ndarray], meta: dict, proto: bytes) -> None:
        self.w = weights
        self.cfg = config.MorphModelConfig(**meta["model_config"])
        self.schema = tags.Schema.from_dict(meta["schema"])
        self.vocab = vocab.Vocab(proto)
        self.setting = predict.stored_rerank(meta.get("rerank"))
        self.known = predict.read_known(meta.get("known"))
        w = weights
        # Each character's GRU input share, (V + 1) x 3D; the last row, zero, is a
        # dropped input (as the torch model's table).
        emb_in = w["embed.weight"] @ w["gru_emb.weight"].T
        self._emb_in = np.vstack([emb_in, np.zeros((1, emb_in.shape[1]), emb_in.dtype)])

    @classmethod
    def load(cls, path: str | os.PathLike) -> NumpyReinflector:
        arrays, meta, proto = checkpoint.read_npz(path)
        check_supported(path, arrays, meta)
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
        if cfg.copy:
            ids, _ = self.vocab.copy_ids(word)
            onehot = np.zeros((len(ids), max([len(self.vocab), *(i + 1 for i in ids)])), np.float32)
            onehot[np.arange(len(ids)), ids] = 1.0
            start["src_onehot"] = onehot  # L x V': where each source character lands
        if self.monotonic:
            D = cfg.decoder_hidden
            values = start["src_values"]
            T = cfg.tag_embedding
            start["src_logits"] = values @ w["out.weight"][:, D + T :].T  # L x V
            start["src_in"] = values @ w["gru_ctx.weight"][:, T:].T  # L x 3D: into the GRU
            if cfg.copy:
                start["src_gate"] = values @ w["copy_gate.weight"][0, D:]  # L
            width = start["src_onehot"].shape[1] if cfg.copy else len(w["out.bias"])
            # The start alignment a_0 = 0 and no pending emission (log-probabilities).
            align = np.full(len(states), -np.inf, np.float32)
            align[0] = 0.0
            start["align"] = align[None]
            start["emit"] = np.zeros((1, len(states), width), np.float32)
        return start

    @property
    def monotonic(self) -> bool:
        return self.cfg.source_attention and self.cfg.source_attention_style == "monotonic"

    def _monotonic(self, s: dict, hyp: dict, h: np.ndarray, logits: np.ndarray):
        """The hard monotonic attention after the GRU step: p(a_t | prefix) from
        p(a_{t-1} | prefix) (``hyp["align"]``, already moved by the previous
        character) and each position's emission; as MSVED._monotonic_step."""
        w = self.w
        scores = (h @ w["src_query.weight"].T) @ s["src_keys"].T  # N x L
        norm = np.flip(np.logaddexp.accumulate(np.flip(scores, -1), axis=-1), -1)
        pred = scores + np.logaddexp.accumulate(hyp["align"] - norm, axis=-1)
        logits = logits[:, None, :] + s["src_logits"][None]  # N x L x V
        if self.cfg.copy:
            D = self.cfg.decoder_hidden
            own = h @ w["copy_gate.weight"][0, :D] + w["copy_gate.bias"][0]
            g = _sigmoid(own[:, None] + s["src_gate"][None])[..., None]  # N x L x 1
            onehot = s["src_onehot"][None]
            generated = np.zeros((*logits.shape[:2], onehot.shape[-1]), np.float32)
            generated[..., : logits.shape[-1]] = _softmax(logits)
            emit = np.log(np.maximum((1.0 - g) * generated + g * onehot, TINY))
        else:
            emit = _log_softmax(logits)
        joint = pred[..., None] + emit
        top = joint.max(1)
        logp = top + np.log(np.exp(joint - top[:, None]).sum(1))
        return logp, {"h": h, "align": pred, "emit": emit}

    def _step(self, s: dict, hyp: dict, tokens: np.ndarray):
        """Hypotheses ``hyp`` (their rows: ``h`` N x D, and with hard attention the
        alignment and the last emission) after ``tokens`` -> (log-probabilities
        N x V, the new rows)."""
        w = self.w
        h = hyp["h"]
        if self.monotonic:  # the previous character moves the alignment
            emit = hyp["emit"]
            seen = emit[np.arange(len(h)), :, np.minimum(tokens, emit.shape[-1] - 1)]
            joint = hyp["align"] + seen
            top = joint.max(-1, keepdims=True)
            hyp = {**hyp, "align": joint - top - np.log(np.exp(joint - top).sum(-1, keepdims=True))}
        tag_vecs = s["tags"]
        if len(tag_vecs):
            a = _softmax((h @ w["tag_query.weight"].T) @ tag_vecs.T)
            ctx = [a @ tag_vecs]
        else:  # no tag present: a zero context
            ctx = [np.zeros((len(h), tag_vecs.shape[1]), dtype=np.float32)]
        source = self.cfg.source_attention
        before = source and self.cfg.source_attention_style == "input"
        if before:  # keyed by the previous state, into the GRU input as well
            src, a = self._source_context(s, h)
            ctx.append(src)
        c = np.concatenate(ctx, axis=1)
        # A copied unknown character (an id past the vocabulary) is read as a
        # dropped input, the table's zero row, as word dropout trains it to be.
        gi = self._emb_in[np.minimum(tokens, len(self._emb_in) - 1)]
        gi = gi + s["z_in"] + c @ w["gru_ctx.weight"][:, : c.shape[1]].T
        if self.monotonic:  # the expected aligned value
            gi = gi + np.exp(hyp["align"]) @ s["src_in"]
        h = _gru(gi, h @ w["gru_hidden.weight"].T + w["gru_hidden.bias"], h)
        if self.monotonic:
            out = w["out.weight"][:, : h.shape[1] + c.shape[1]]
            return self._monotonic(
                s, hyp, h, np.concatenate([h, c], axis=1) @ out.T + w["out.bias"]
            )
        if source and not before:  # keyed by the new state, output layer only
            src, a = self._source_context(s, h)
            c = np.concatenate([c, src], axis=1)
        logits = np.concatenate([h, c], axis=1) @ w["out.weight"].T + w["out.bias"]
        if not self.cfg.copy:
            return _log_softmax(logits), {"h": h}
        # The pointer-generator: p = (1 - g) softmax(logits) + g (a scattered on the source).
        gate = np.concatenate([h, src], axis=1) @ w["copy_gate.weight"].T + w["copy_gate.bias"]
        g = _sigmoid(gate)
        copied = a @ s["src_onehot"]
        generated = np.zeros_like(copied)
        generated[:, : logits.shape[1]] = _softmax(logits)
        return np.log(np.maximum((1.0 - g) * generated + g * copied, TINY)), {"h": h}

    def _source_context(self, s: dict, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the source context N x A, the attention weights N x L)."""
        a = _softmax((h @ self.w["src_query.weight"].T) @ s["src_keys"].T)
        return a @ s["src_values"], a

    def _beam(self, s: dict, beam: int, max_length: int) -> list[tuple[list[int], float]]:
        """Beam search for one input, as :func:`reinflect.morph.decoding.beam_search`."""
        K = beam
        hyp = {k: np.repeat(s[k], K, axis=0) for k in HYPOTHESIS if k in s}
        scores = np.full(K, -np.inf, dtype=np.float32)
        scores[0] = 0.0
        tokens = np.full(K, BOS, dtype=np.int64)
        finished = np.zeros(K, dtype=bool)
        history = np.zeros((K, 0), dtype=np.int64)
        for _ in range(max_length):
            live = ~finished & (scores > -np.inf)
            logp_live, new = self._step(s, {k: v[live] for k, v in hyp.items()}, tokens[live])
            V = logp_live.shape[1]
            logp = np.full((K, V), -np.inf, dtype=np.float32)
            logp[:, PAD] = 0.0
            logp[live] = logp_live
            hyp = {k: v.copy() for k, v in hyp.items()}
            for k, v in hyp.items():
                v[live] = new[k]
            cand = (scores[:, None] + logp).reshape(-1)
            flat = np.argsort(-cand, kind="stable")[:K]
            scores = cand[flat]
            origin, tok = flat // V, flat % V
            hyp = {k: v[origin] for k, v in hyp.items()}
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
            results.append([(self.vocab.decode(ids, word), s) for ids, s in hyps])
        return results

    def _forced(self, s: dict, ids: list[int]) -> float:
        """log p(ids, EOS) from the start state ``s``, step by step as the search
        (a copy id the model cannot emit scores as UNK, as decoding.forced)."""
        hyp, prev, total = {k: s[k] for k in HYPOTHESIS if k in s}, BOS, 0.0
        for tok in [*ids, EOS]:
            logp, hyp = self._step(s, hyp, np.array([prev]))
            total += float(logp[0, tok if tok < logp.shape[1] else UNK])
            prev = tok
        return total

    def form_log_probs(self, words, bundles, forms) -> list[float]:
        self.warn_unknown(words)
        return [
            self._forced(self._start(w, self.schema.encode(b)), self.vocab.target_ids(f, w))
            for w, b, f in zip(words, bundles, forms, strict=True)
        ]

    def roundtrip_log_probs(self, sources: list[str], forms: list[str]) -> list[float]:
        classes: dict[str, list[int]] = {}  # the source's most probable tag per dimension
        out = []
        for source, form in zip(sources, forms, strict=True):
            if not form:
                out.append(-math.inf)
                continue
            if source not in classes:
                classes[source] = [int(np.argmax(lq)) for lq in self.tag_log_probs(source)]
            out.append(self._forced(self._start(form, classes[source]), self.vocab.encode(source)))
        return out
