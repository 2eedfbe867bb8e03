"""The torch engine: batched prediction with a trained model, on any device.

Everything comes from the checkpoint (weights, vocabulary, tag schema,
config); prediction never reads training data. What both engines share
(partial tags, reranking, evaluation) is :class:`reinflect.morph.predict.Predictor`.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch.nn import functional as F

from reinflect.morph import checkpoint, data, decoding, predict, tags, vocab
from reinflect.morph import model as morph_model


class TorchPredictor(predict.Predictor):
    """Decoding with torch: batched greedy or beam search over ``self.decoder``
    (``decode_step`` and ``reorder``, see :mod:`~reinflect.morph.decoding`)
    from the start states of :meth:`start`."""

    decoder: object

    def start(self, words: list[str], bundles: list[dict[str, str]]) -> dict[str, torch.Tensor]:
        """The decoder's start state for ``words`` and their target ``bundles``."""
        raise NotImplementedError

    @torch.inference_mode()
    def _search(self, words, bundles, *, beam: int, nbest: int, max_length: int, batch_size: int):
        results: list[list[tuple[str, float]]] = [[] for _ in words]
        for idx in data.sorted_batches([len(w) for w in words], batch_size):
            state = self.start([words[i] for i in idx], [bundles[i] for i in idx])
            if beam == 1:
                toks, scores = decoding.greedy(self.decoder, state, max_length=max_length)
                for j, i in enumerate(idx):
                    form = self.vocab.decode(toks[j].tolist(), words[i])
                    results[i] = [(form, float(scores[j]))]
            else:
                hyps = decoding.beam_search(
                    self.decoder, state, beam=beam, max_length=max_length, nbest=nbest
                )
                for j, i in enumerate(idx):
                    results[i] = [(self.vocab.decode(ids, words[i]), s) for ids, s in hyps[j]]
        return results

    @torch.inference_mode()
    def form_log_probs(self, words, bundles, forms, *, batch_size: int = 256) -> list[float]:
        ids = [self.vocab.target_ids(f, w) for f, w in zip(forms, words, strict=True)]
        out = [-math.inf] * len(words)
        for idx in data.sorted_batches([len(w) for w in words], batch_size):
            state = self.start([words[i] for i in idx], [bundles[i] for i in idx])
            targets, _ = data.pad([ids[i] for i in idx])
            device = next(iter(state.values())).device
            scores = decoding.forced(self.decoder, state, targets.to(device))
            for i, v in zip(idx, scores.tolist(), strict=True):
                out[i] = v
        return out


class Reinflector(TorchPredictor):
    """A trained MSVED (torch) with its vocabulary and tag schema."""

    def __init__(self, model: morph_model.MSVED, v: vocab.Vocab, schema: tags.Schema, device=None):
        self.model = self.decoder = model.eval()
        self.vocab = v
        self.schema = schema
        # Inputs go where the model is, unless a device is named.
        self.device = torch.device(device) if device else next(model.parameters()).device

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> Reinflector:
        """The model of a run directory, ``model.pt`` or ``last.pt``."""
        return cls.from_payload(checkpoint.load(path, map_location=device), device)

    @classmethod
    def from_payload(cls, payload: dict, device: str = "cpu") -> Reinflector:
        r = cls(*checkpoint.build_model(payload, device), device)
        r.setting = predict.stored_rerank(payload.get("rerank"))
        r.known = predict.read_known(payload.get("known"))
        return r

    # -- helpers ---------------------------------------------------------------

    def _encode_words(self, words: list[str], *, warn: bool = True):
        """(states, mask_log, summary) of the encoder and the source for the
        decoder: ``(states, mask_log, copy ids)`` or None without source attention.
        ``warn``: warn of characters unseen in training (not for the model's own
        hypotheses, scored for reranking)."""
        if warn:
            self.warn_unknown(words)
        ids, lengths = data.pad(self.vocab.encode_batch(words), eos=False)
        ids, lengths = ids.to(self.device), lengths.to(self.device)
        states, mask, h = self.model.encode(ids, lengths)
        source = None
        if self.model.cfg.source_attention:
            copy, _ = data.pad([self.vocab.copy_ids(w)[0] for w in words], eos=False)
            source = (states, mask, copy.to(self.device))
        return states, mask, h, source

    def _onehots(self, bundles: list[dict[str, str]]) -> list[torch.Tensor]:
        idx = torch.tensor([self.schema.encode(b) for b in bundles], device=self.device)
        return [
            torch.nn.functional.one_hot(idx[:, k], c).float()
            for k, c in enumerate(self.schema.sizes)
        ]

    # -- public ----------------------------------------------------------------

    def start(self, words: list[str], bundles: list[dict[str, str]]) -> dict[str, torch.Tensor]:
        """The decoder's start state for ``words`` and their target ``bundles``
        (z = the posterior mean, as at test time)."""
        *_, h, source = self._encode_words(words)
        return self.model.start(self.model.posterior(h).mu, self._onehots(bundles), source)

    def bundle_log_probs(
        self, words: list[str], bundles: list[dict[str, str]], batch_size: int = 256
    ) -> list[float]:
        return self._scores(words, bundles=bundles, batch_size=batch_size)[0]

    def roundtrip_log_probs(
        self, sources: list[str], forms: list[str], batch_size: int = 256
    ) -> list[float]:
        return self._scores(forms, sources=sources, batch_size=batch_size)[1]

    def hypothesis_scores(self, sources, forms, bundles, *, roundtrip: bool):
        logq, logr = self._scores(forms, bundles=bundles, sources=sources if roundtrip else None)
        return logq, logr if roundtrip else [0.0] * len(forms)

    @torch.inference_mode()
    def _scores(self, forms: list[str], *, bundles=None, sources=None, batch_size: int = 256):
        """Per form, from one encoder pass over the forms: log q(bundle|form) (with
        ``bundles``) and log p(source|form) (with ``sources``); -inf for an empty
        form or a score not asked for."""
        logq, logr = [-math.inf] * len(forms), [-math.inf] * len(forms)
        enc = None if bundles is None else [self.schema.encode(b) for b in bundles]
        classes = {}  # each source's most probable tag per dimension
        unique = [] if sources is None else list(dict.fromkeys(sources))
        for idx in data.sorted_batches([len(w) for w in unique], batch_size):
            h = self._encode_words([unique[i] for i in idx], warn=False)[2]
            best = torch.stack([lg.argmax(-1) for lg in self.model.tag_logits(h)], dim=1)
            classes |= dict(zip((unique[i] for i in idx), best, strict=True))
        keep = [i for i, f in enumerate(forms) if f]
        for idx in data.sorted_batches([len(forms[i]) for i in keep], batch_size):
            rows = [keep[j] for j in idx]
            *_, h, source = self._encode_words([forms[i] for i in rows], warn=False)
            if enc is not None:
                y = torch.tensor([enc[i] for i in rows], device=self.device)
                q = sum(
                    torch.log_softmax(lg.float(), -1).gather(1, y[:, k : k + 1])[:, 0]
                    for k, lg in enumerate(self.model.tag_logits(h))
                )
                for i, v in zip(rows, q.tolist(), strict=True):
                    logq[i] = v
            if sources is not None:
                best = torch.stack([classes[sources[i]] for i in rows])
                ys = [F.one_hot(best[:, k], c).float() for k, c in enumerate(self.schema.sizes)]
                state = self.model.start(self.model.posterior(h).mu, ys, source)
                targets, _ = data.pad(self.vocab.encode_batch([sources[i] for i in rows]))
                r = self.model.log_likelihood(state, targets.to(self.device))
                for i, v in zip(rows, r.tolist(), strict=True):
                    logr[i] = v
        return logq, logr

    @torch.inference_mode()
    def tag_log_probs(self, word: str) -> list[list[float]]:
        h = self._encode_words([word])[2]
        return [torch.log_softmax(lg, -1)[0].tolist() for lg in self.model.tag_logits(h)]

    @torch.inference_mode()
    def latents(self, words: list[str], batch_size: int = 256):
        """z = mu(x) of each word (``N x Z``) and q(y_k|x) per tag dimension (one
        ``N x C_k`` each), as numpy arrays in the order of ``words``."""
        mus = [None] * len(words)
        probs: list[list] = [[None] * len(words) for _ in self.schema.dimensions]
        for idx in data.sorted_batches([len(w) for w in words], batch_size):
            h = self._encode_words([words[i] for i in idx], warn=False)[2]
            mu = self.model.posterior(h).mu.float().cpu().numpy()
            ps = [torch.softmax(lg.float(), -1).cpu().numpy() for lg in self.model.tag_logits(h)]
            for j, i in enumerate(idx):
                mus[i] = mu[j]
                for k, p in enumerate(ps):
                    probs[k][i] = p[j]
        return np.stack(mus), [np.stack(p) for p in probs]

    @torch.inference_mode()
    def latent_stats(self, words: list[str], bundles: list[dict[str, str]], batch_size: int = 256):
        """What the latent variables carry for ``words`` with gold ``bundles``: the
        mean KL(q(z|x) || N(0, I)) in nats (near 0: z carries nothing) and the
        tagger's exact-bundle accuracy (%) of q(y|x)'s most probable tags."""
        from reinflect.vae import kl

        total_kl, right = 0.0, 0
        gold = [self.schema.encode(b) for b in bundles]
        for idx in data.sorted_batches([len(w) for w in words], batch_size):
            h = self._encode_words([words[i] for i in idx])[2]
            q = self.model.posterior(h)
            total_kl += float(kl.gaussian_standard(q.mu.float(), q.logvar.float()).sum())
            best = torch.stack([lg.argmax(-1) for lg in self.model.tag_logits(h)], dim=1)
            y = torch.tensor([gold[i] for i in idx], device=best.device)
            right += int((best == y).all(1).sum())
        n = max(len(words), 1)
        return {"kl_z": round(total_kl / n, 3), "tag_accuracy": round(100.0 * right / n, 2)}
