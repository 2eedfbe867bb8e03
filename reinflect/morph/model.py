"""The multi-space variational encoder-decoder (Zhou & Neubig 2017, MSVED).

* Encoder: bidirectional GRU over characters; the final states of both
  directions, concatenated, are the word summary h (``B x 2H``).
* q(z|x) = N(mu(h), sigma^2(h)), the lemma latent (section 3.1).
* q(y_k|x) = softmax(W_k h), one categorical per tag dimension; class 0 of
  every dimension means "absent" (section 3.2).
* Tag vectors v_k = y_k T_k (the absent row of T_k is zero), and
  e_y = tanh(sum_k v_k + b).
* Decoder: a GRU with h_0 = tanh(W [z; e_y] + b); at every step its input is
  [previous character embedding (word dropout); z; attention over the
  present tag vectors, keyed by the previous state], plus optionally (ours)
  attention over the source characters.

The model returns distributions and log-likelihoods; losses live in
:mod:`reinflect.morph.objective`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from reinflect.config import MorphModelConfig
from reinflect.morph.vocab import BOS, PAD
from reinflect.vae import distributions

NEG = -1e9  # a large negative score for masked attention positions


def _attend(keys: torch.Tensor, query: torch.Tensor, mask_log: torch.Tensor) -> torch.Tensor:
    """Dot-product attention: ``keys`` B x N x D, ``query`` B x D -> context B x D.

    ``mask_log`` (B x N) is added to the scores: 0 where present, NEG (or log
    of a soft presence) where not. A row with nothing present gets a zero context.
    """
    scores = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1) + mask_log
    weights = torch.softmax(scores, dim=-1) * (mask_log > NEG / 2).to(keys.dtype)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


class MSVED(nn.Module):
    def __init__(self, *, vocab_size: int, tag_sizes: list[int], cfg: MorphModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tag_sizes = list(tag_sizes)
        E, H, Z, T, D = (
            cfg.char_embedding,
            cfg.encoder_hidden,
            cfg.latent,
            cfg.tag_embedding,
            cfg.decoder_hidden,
        )
        self.embed = nn.Embedding(vocab_size, E, padding_idx=PAD)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=True)
        self.to_z = nn.Linear(2 * H, 2 * Z)
        self.y_heads = nn.ModuleList(nn.Linear(2 * H, c) for c in tag_sizes)
        self.tag_tables = nn.ParameterList(nn.Parameter(0.1 * torch.randn(c, T)) for c in tag_sizes)
        self.tag_bias = nn.Parameter(torch.zeros(T))
        self.init = nn.Linear(Z + T, D)
        self.tag_query = nn.Linear(D, T, bias=False)
        ctx = T + (2 * H if cfg.source_attention else 0)
        if cfg.source_attention:
            self.src_query = nn.Linear(D, 2 * H, bias=False)
        # A GRU cell on [embedding; z; contexts], its input projection kept in three
        # blocks so the embedding and z parts are computed once per sequence.
        self.gru_emb = nn.Linear(E, 3 * D, bias=False)
        self.gru_z = nn.Linear(Z, 3 * D)
        self.gru_ctx = nn.Linear(ctx, 3 * D, bias=False)
        self.gru_hidden = nn.Linear(D, 3 * D)
        self.out = nn.Linear(D + ctx, vocab_size)

    # -- encoder and posteriors ------------------------------------------------

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Characters ``B x L`` (the first ``lengths`` real) ->
        (states ``B x L x 2H``, mask_log ``B x L``, summary h ``B x 2H``)."""
        emb = self.embed(ids)
        packed = nn.utils.rnn.pack_padded_sequence(
            emb, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False
        )
        out, h_n = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=ids.shape[1]
        )
        mask = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]
        mask_log = torch.zeros(mask.shape, device=ids.device, dtype=states.dtype).masked_fill(
            ~mask, NEG
        )
        return states, mask_log, torch.cat([h_n[0], h_n[1]], dim=-1)

    def posterior(self, h: torch.Tensor) -> distributions.DiagGaussian:
        """q(z|x) from the encoder summary ``B x 2H``."""
        mu, logvar = self.to_z(h).chunk(2, dim=-1)
        return distributions.DiagGaussian(mu, logvar)

    def tag_logits(self, h: torch.Tensor) -> list[torch.Tensor]:
        """Logits of q(y_k|x), one ``B x C_k`` per tag dimension."""
        return [head(h) for head in self.y_heads]

    # -- decoder ---------------------------------------------------------------

    def tag_vectors(self, ys: list[torch.Tensor]):
        """One-hot or relaxed ``ys`` ->
        (tag vectors ``B x K x T``, presence log-mask ``B x K``, e_y ``B x T``)."""
        vecs, presence = [], []
        for y, table in zip(ys, self.tag_tables, strict=True):
            # Row 0 is "absent": it contributes nothing.
            vecs.append(y[:, 1:] @ table[1:])
            presence.append(1.0 - y[:, 0])
        v = torch.stack(vecs, dim=1)
        p = torch.stack(presence, dim=1)
        mask_log = torch.where(p > 0, torch.log(p.clamp(min=1e-6)), torch.full_like(p, NEG))
        return v, mask_log, torch.tanh(v.sum(1) + self.tag_bias)

    def start(
        self, z: torch.Tensor, ys: list[torch.Tensor], source=None
    ) -> dict[str, torch.Tensor]:
        """The decoder state for latent ``z`` (B x Z) and tags ``ys``.

        ``source`` is ``(states, mask_log)`` of the encoder, for source attention.
        """
        tags, tag_mask, e_y = self.tag_vectors(ys)
        state = {
            "h": torch.tanh(self.init(torch.cat([z, e_y], dim=-1))),
            # z enters every step through the same weights: project it once.
            "z_in": self.gru_z(z),
            "tags": tags,
            "tag_mask": tag_mask,
        }
        if self.cfg.source_attention:
            if source is None:
                raise ValueError("this model attends over the source: pass source=(states, mask)")
            state["src"], state["src_mask"] = source
        return state

    def _contexts(self, state) -> torch.Tensor:
        h = state["h"]
        ctx = [_attend(state["tags"], self.tag_query(h), state["tag_mask"])]
        if self.cfg.source_attention:
            ctx.append(_attend(state["src"], self.src_query(h), state["src_mask"]))
        return torch.cat(ctx, dim=-1)

    def _embed_in(self, tokens: torch.Tensor) -> torch.Tensor:
        """The GRU input projection of character embeddings, ``... x 3D``."""
        return self.gru_emb(self.embed(tokens))

    def _step(self, state, emb_in: torch.Tensor):
        """One GRU step (torch's GRUCell equations) on [embedding; z; contexts], with
        the embedding and z parts of the input projection precomputed."""
        ctx = self._contexts(state)
        gi = emb_in + state["z_in"] + self.gru_ctx(ctx)
        gh = self.gru_hidden(state["h"])
        i_r, i_u, i_n = gi.chunk(3, dim=-1)
        h_r, h_u, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        u = torch.sigmoid(i_u + h_u)
        n = torch.tanh(i_n + r * h_n)
        h = n + u * (state["h"] - n)  # = (1 - u) * n + u * h
        return torch.cat([h, ctx], dim=-1), {**state, "h": h}

    def decode_step(self, state, tokens: torch.Tensor):
        """One step: previous tokens ``B`` -> (log-probabilities ``B x V``, new state)."""
        features, state = self._step(state, self._embed_in(tokens))
        return F.log_softmax(self.out(features), dim=-1), state

    @staticmethod
    def reorder(state: dict[str, torch.Tensor], index: torch.Tensor) -> dict[str, torch.Tensor]:
        """Select rows ``index`` of every state tensor (beam search)."""
        return {k: v.index_select(0, index) for k, v in state.items()}

    def log_likelihood(self, state, targets: torch.Tensor) -> torch.Tensor:
        """Teacher-forced log p(targets | state): ``targets`` B x T (ending in EOS,
        PAD after) -> ``B``. Word dropout zeroes whole input embeddings in training.
        """
        B, T = targets.shape
        prev = torch.cat([torch.full((B, 1), BOS, device=targets.device), targets[:, :-1]], dim=1)
        emb = self._embed_in(prev)
        if self.training and self.cfg.word_dropout > 0:
            # Dropping a whole embedding zeroes its share of the input projection.
            keep = torch.rand(B, T, 1, device=emb.device) >= self.cfg.word_dropout
            emb = emb * keep.to(emb.dtype)
        feats = []
        # unbind, not emb[:, t]: the backward of T index ops would each zero-fill a
        # gradient the size of all of emb; unbind's backward is one stack.
        for emb_t in emb.unbind(1):
            f, state = self._step(state, emb_t)
            feats.append(f)
        logp = F.log_softmax(self.out(torch.stack(feats, dim=1)), dim=-1)
        token_logp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return (token_logp * (targets != PAD).to(token_logp.dtype)).sum(-1)
