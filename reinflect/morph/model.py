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
  attention over the source characters: bilinear scores and values in a
  small space (``source_attention_dim`` A), so a step reads B x L x A
  numbers instead of B x L x 2H. Style "input" keys it by the previous state
  and feeds the context to the GRU and the output layer, like the tags; style
  "output" keys it by the new state and feeds the output layer only (Luong et
  al. 2015 without input feeding), so teacher forcing attends for all steps
  at once after the recurrence.
* Copying (ours, ``cfg.copy``; needs source attention): a pointer-generator
  (See et al. 2017). The output distribution is
  p(w) = (1 - g) softmax(logits)(w) + g sum_{j: src_j = w} a_j, with a the
  source attention weights of the step and the gate g = sigmoid(W [h; c] + b)
  on the decoder state and the source context. Source characters unknown to
  the vocabulary take ids past it (V, V+1, ... per word), so a copy brings
  them through; the next step reads one as a dropped input (word dropout's
  zero embedding), the decoder never having seen it; training makes a share
  of characters unknown so that copying them is learned (objective.py). A
  row given no source (all of it masked) neither attends nor copies (g = 0):
  the objective decodes the auto-encoding rows so, or they
  would learn to copy the very word they rebuild and z would carry nothing.
* Hard monotonic attention (ours, style "monotonic"; Wu & Cotterell 2019's
  first-order model, with our copy): each output character is emitted from
  one source position a_t, and a_t >= a_{t-1} (a_0 = 0). The transition
  p(a_t = i | a_{t-1} = k) = softmax over i >= k of (W_q h_t) . (W_k s_i);
  the emission p(w | a_t = i) is the output layer on [h_t; tag context;
  W_v s_i], and with copying (1 - g_i) of that plus g_i on the character at
  i, g_i = sigmoid(W [h_t; W_v s_i] + b). The GRU reads, beside the previous
  character, the expected aligned value sum_i p(a_{t-1} = i | prefix) W_v s_i
  (ours: where the alignment stands, which a plain decoder state cannot
  know). That is a function of the prefix, not of one alignment, so the
  alignment is summed out exactly by the forward algorithm (the state of a
  hypothesis carries the distribution of a_t given its prefix): log p(word)
  is a sum of per-character log p(w_t | prefix), as for the other decoders,
  and beam search is unchanged. A row without a source has one empty
  position (a zero value): the generator alone.
* Dropout (ours, ``cfg.dropout``; off by default): on the encoder's outputs and
  on the decoder states under the output layer, in training only.

The model returns distributions and log-likelihoods; losses live in
:mod:`reinflect.morph.objective`.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from reinflect.config import MODEL_SIZES, MorphModelConfig
from reinflect.errors import ReinflectError
from reinflect.morph.vocab import BOS, PAD
from reinflect.vae import distributions

NEG = -1e9  # a large negative score for masked attention positions
# The state keys that belong to one hypothesis (beam search moves them with it).
HYPOTHESIS = ("h", "align", "emit")
# What the hard monotonic decoder reads per row besides the decoder state.
ALIGN_INPUTS = (
    "src_logits",
    "src_aligned",
    "src_mask",
    "src_keys",
    "src_gate",
    "src_onehot",
    "has_src",
    "align",
)
TINY = 1e-30  # the least probability a copying decoder gives a character (log: -69)


def _copy_mix(gate: torch.Tensor, generated: torch.Tensor, copied: torch.Tensor) -> torch.Tensor:
    """The pointer-generator's log-probability, log((1 - g) p_gen + g p_copy),
    floored at TINY (a character neither generated nor in the source)."""
    return torch.log(((1.0 - gate) * generated + gate * copied).clamp_min(TINY))


def _gru_update(gi: torch.Tensor, gh: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """torch's GRU cell from the input and hidden projections (gates r, u, n), in
    few fused operations: h' = (1 - u) n + u h = lerp(n, h, u)."""
    D = h.shape[-1]
    # split, not slices: its backward is one concatenation, where each slice's
    # backward would write its gradient into a zero tensor of the full width.
    gi_ru, gi_n = gi.split((2 * D, D), dim=-1)
    gh_ru, gh_n = gh.split((2 * D, D), dim=-1)
    r, u = torch.sigmoid(gi_ru + gh_ru).chunk(2, dim=-1)
    n = torch.tanh(torch.addcmul(gi_n, r, gh_n))
    return torch.lerp(n, h, u)


class MSVED(nn.Module):
    def __init__(self, *, vocab_size: int, tag_sizes: list[int], cfg: MorphModelConfig) -> None:
        super().__init__()
        unsized = [n for n in MODEL_SIZES if getattr(cfg, n) is None]
        if unsized:
            raise ReinflectError(
                f"model sizes not chosen ({', '.join(unsized)}): give them, or let "
                "reinflect.morph.sizing.choose set them from the training set's size"
            )
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
        A = cfg.source_attention_dim
        # The source context's columns: in the GRU input only for the "input" style.
        src = A if cfg.source_attention else 0
        style = cfg.source_attention_style if cfg.source_attention else None
        self.src_in_step = style == "input"
        self.src_at_output = style == "output"
        self.monotonic = style == "monotonic"
        # Whether the auto-encoding rows must decode without their source: a copy,
        # or an emission from the aligned character, would rebuild the word from
        # itself (the objective gives them a fully masked source).
        self.private_source = bool(cfg.copy) or self.monotonic
        if cfg.source_attention:
            # score(h, s_j) = (W_q h) . (W_k s_j); value W_v s_j.
            self.src_query = nn.Linear(D, A, bias=False)
            self.src_key = nn.Linear(2 * H, A, bias=False)
            self.src_value = nn.Linear(2 * H, A, bias=False)
        if cfg.copy:
            if not cfg.source_attention:
                raise ValueError("copying needs source attention (cfg.source_attention)")
            # The copy gate's logit from [decoder state; source context].
            self.copy_gate = nn.Linear(D + A, 1)
        # A GRU cell on [embedding; z; contexts], its input projection kept in three
        # blocks so the embedding and z parts are computed once per sequence.
        self.gru_emb = nn.Linear(E, 3 * D, bias=False)
        self.gru_z = nn.Linear(Z, 3 * D)
        # The GRU reads the source context in the "input" style and the expected
        # aligned value in the "monotonic" one.
        reads_src = self.src_in_step or self.monotonic
        self.gru_ctx = nn.Linear(T + (src if reads_src else 0), 3 * D, bias=False)
        self.gru_hidden = nn.Linear(D, 3 * D)
        self.out = nn.Linear(D + T + src, vocab_size)
        # Column j of the present tag values belongs to dimension tag_group[j].
        group = torch.repeat_interleave(torch.arange(len(tag_sizes)), torch.tensor(tag_sizes) - 1)
        self.register_buffer(
            "tag_group", F.one_hot(group, len(tag_sizes)).float(), persistent=False
        )

    # -- encoder and posteriors ------------------------------------------------

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor):
        """Characters ``B x L`` (the first ``lengths`` real) ->
        (states ``B x L x 2H`` or None, mask_log ``B x L``, summary h ``B x 2H``).

        The bidirectional GRU of ``self.encoder`` (its weights; the result equals
        ``nn.GRU`` on the packed sequence), run as one masked loop over both
        directions with the input projection looked up per character instead
        of multiplied per position. The per-position states are returned only
        when the model attends over the source.
        """
        g = self.encoder
        B, L = ids.shape
        H = g.hidden_size
        pos = torch.arange(L, device=ids.device)
        mask = pos[None, :] < lengths[:, None]
        # The backward direction reads each word reversed within its own length.
        rev = (lengths[:, None] - 1 - pos[None, :]).clamp(min=0)
        x = torch.cat(
            [
                F.embedding(ids, self.embed.weight @ g.weight_ih_l0.t() + g.bias_ih_l0),
                F.embedding(
                    ids.gather(1, rev),
                    self.embed.weight @ g.weight_ih_l0_reverse.t() + g.bias_ih_l0_reverse,
                ),
            ]
        )  # 2B x L x 3H: forward rows, then backward rows
        w_hh = torch.stack([g.weight_hh_l0, g.weight_hh_l0_reverse]).transpose(1, 2)
        b_hh = torch.stack([g.bias_hh_l0, g.bias_hh_l0_reverse]).unsqueeze(1)
        keep = torch.cat([mask, mask]).unsqueeze(-1)  # a finished word keeps its state
        h = x.new_zeros(2 * B, H)
        outs = []
        for x_t, keep_t in zip(x.unbind(1), keep.unbind(1), strict=True):
            gh = torch.baddbmm(b_hh, h.view(2, B, H), w_hh).view(2 * B, 3 * H)
            h = torch.where(keep_t, _gru_update(x_t, gh, h), h)
            outs.append(h)
        summary = self._dropout(torch.cat([h[:B], h[B:]], dim=-1))
        mask_log = torch.zeros(mask.shape, device=ids.device, dtype=h.dtype).masked_fill(~mask, NEG)
        states = None
        if self.cfg.source_attention:
            seq = torch.stack(outs, dim=1)
            backward = seq[B:].gather(1, rev.unsqueeze(-1).expand(B, L, H))
            states = torch.cat([seq[:B], backward], dim=-1) * mask.unsqueeze(-1).to(h.dtype)
            states = self._dropout(states)
        return states, mask_log, summary

    def _dropout(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout (``cfg.dropout``, ours) in training; the identity otherwise."""
        return F.dropout(x, self.cfg.dropout, self.training) if self.cfg.dropout > 0 else x

    def posterior(self, h: torch.Tensor) -> distributions.DiagGaussian:
        """q(z|x) from the encoder summary ``B x 2H``."""
        mu, logvar = self.to_z(h).chunk(2, dim=-1)
        return distributions.DiagGaussian(mu, logvar)

    def tag_logits(self, h: torch.Tensor) -> list[torch.Tensor]:
        """Logits of q(y_k|x), one ``B x C_k`` per tag dimension."""
        return [head(h) for head in self.y_heads]

    # -- decoder ---------------------------------------------------------------
    #
    # The plain formulation (the paper's): tag vectors v_k = y_k T_k, a context
    # c = sum_k a_k v_k with a = softmax_k(v_k . W_q h) over the present tags,
    # the GRU input [emb; z; c] and the output layer on [h; c]. Everything in it
    # is linear in y and in the character embedding, so it is computed here on
    # the *tag values* (S = sum_k (C_k - 1) rows, a few dozen) and on the
    # *vocabulary* instead of on every row at every step: the per-step work is
    # one B x S by S x (3D + V) product instead of B x 200 by 200 x (3D + V)
    # plus a B x 300 by 300 x 3D one. The numpy engine computes the plain formulation;
    # tests/test_engines.py checks the two agree on random weights.

    def _tag_rows(self, ys: list[torch.Tensor]):
        """Present-value columns of ``ys`` side by side (``B x S``; the absent
        class 0 of every dimension left out) and the presence log-mask ``B x K``."""
        y_cat = torch.cat([y[:, 1:] for y in ys], dim=1)
        p = torch.stack([1.0 - y[:, 0] for y in ys], dim=1)
        mask_log = torch.where(p > 0, torch.log(p.clamp(min=1e-6)), torch.full_like(p, NEG))
        return y_cat, mask_log

    def start(
        self, z: torch.Tensor, ys: list[torch.Tensor], source=None
    ) -> dict[str, torch.Tensor]:
        """The decoder state for latent ``z`` (B x Z) and tags ``ys`` (one-hot or
        relaxed, one ``B x C_k`` per dimension).

        ``source`` is ``(states, mask_log, ids)``: the encoder's states and mask
        and the source's character ids (``B x L``, ids past the vocabulary for
        unknown characters), for source attention and copying; a row whose mask
        is all masked has no source. Keys starting with ``_`` are shared by all
        rows (not reordered).
        """
        T = self.cfg.tag_embedding
        y_cat, tag_mask = self._tag_rows(ys)
        values = torch.cat([t[1:] for t in self.tag_tables], dim=0)  # S x T
        e_y = torch.tanh(y_cat @ values + self.tag_bias)
        state = {
            "h": torch.tanh(self.init(torch.cat([z, e_y], dim=-1))),
            # z enters every step through the same weights: project it once.
            "z_in": self.gru_z(z),
            "_inputs": self._input_table(),
            "y": y_cat,
            "tag_mask": tag_mask,
            # Per tag value: its attention key and its shares of the GRU input
            # and of the output layer.
            "_tag_keys": values @ self.tag_query.weight,  # S x D
            "_tag_proj": values @ self._context_share(0, T),
        }
        if self.cfg.source_attention:
            if source is None:
                raise ValueError(
                    "this model attends over the source: pass source=(states, mask, ids)"
                )
            states, mask, ids = source
            D = self.cfg.decoder_hidden
            state |= {
                "src_keys": self.src_key(states),  # B x L x A
                "src_values": self.src_value(states),  # B x L x A
                "src_mask": mask,
                # A x (3D + V) in the "input" style, A x V in the "output" one.
                "_src_proj": self._context_share(T, None)
                if self.src_in_step
                else self.out.weight[:, D + T :].t(),
            }
            if self.cfg.copy:
                V = self.out.out_features
                n = max(V, int(ids.max()) + 1) if ids.numel() else V
                present = mask > NEG / 2
                # B x L x V': where each source position's character lands.
                state["src_onehot"] = F.one_hot(ids, n).to(states.dtype) * present.unsqueeze(-1)
                state["has_src"] = present.any(-1).to(states.dtype).unsqueeze(-1)  # B x 1
            if self.monotonic:
                state |= self._monotonic_start(state, mask)
        return state

    def _monotonic_start(self, state, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """The hard monotonic attention's per-row inputs: every position's share
        of the logits (and of the copy gate's logit), the positions it may
        align to (a row without a source: one empty position) and the start
        alignment a_0 = 0 with no pending emission (log-probabilities)."""
        present = mask > NEG / 2
        has = present.any(-1, keepdim=True)
        values = state["src_values"] * present.unsqueeze(-1).to(state["src_values"].dtype)
        first = torch.arange(mask.shape[1], device=mask.device) == 0
        allowed = present | (~has & first)
        align = torch.full(mask.shape, NEG, device=mask.device).masked_fill(first, 0.0)
        T = self.cfg.tag_embedding
        out = {
            "src_logits": (values @ state["_src_proj"]).float(),  # B x L x V
            # The values the expected aligned value is summed from (B x L x A),
            # and the weights that take it into the GRU input (A x 3D): summed
            # first and projected once per step, the smaller product.
            "src_aligned": values,
            "_aligned_proj": self.gru_ctx.weight[:, T:].t(),
            "src_mask": torch.zeros_like(align).masked_fill(~allowed, NEG),
            "has_src": has.float(),
            "align": align,
        }
        if self.cfg.copy:
            D = self.cfg.decoder_hidden
            out["src_gate"] = (values @ self.copy_gate.weight[:, D:].t()).squeeze(-1).float()
            width = state["src_onehot"].shape[-1]
        else:
            width = self.out.out_features
        out["emit"] = align.new_zeros(*mask.shape, width)
        return out

    def _context_share(self, start: int, stop: int | None) -> torch.Tensor:
        """The weights that take context columns ``start:stop`` (tags first, then
        the source) into the GRU input and the output layer: ``C x (3D + V)``."""
        D = self.cfg.decoder_hidden
        end = None if stop is None else D + stop
        return torch.cat(
            [self.gru_ctx.weight[:, start:stop], self.out.weight[:, D + start : end]]
        ).t()

    @staticmethod
    def _masked_softmax(scores: torch.Tensor, mask_log: torch.Tensor) -> torch.Tensor:
        """Attention weights; a row with nothing present gets all zeros."""
        w = torch.softmax(scores + mask_log, dim=-1)
        return w * (mask_log > NEG / 2).to(w.dtype)

    def _contexts(self, state, h: torch.Tensor):
        """The contexts' shares of [GRU input (3D) | output logits (V)], ``B x (3D+V)``,
        from attention keyed by the previous state ``h``; and, in the "input"
        style, the source context and weights (else None)."""
        group = self.tag_group
        # Score of dimension k = v_k . W_q h = sum of the present value's key . h.
        scores = ((h @ state["_tag_keys"].t()) * state["y"]) @ group
        w = self._masked_softmax(scores, state["tag_mask"])
        ctx = ((w @ group.t()) * state["y"]) @ state["_tag_proj"]
        if self.src_in_step:
            share, src = self._source_context(state, h)
            return ctx + share, src
        return ctx, None

    def _source_context(self, state, h: torch.Tensor):
        """The source context's share of what ``_src_proj`` feeds (GRU input and
        logits, or logits only) for states ``h``: ``B x D`` (one step) or
        ``B x T x D`` (all steps at once, the "output" style); and (the context
        ``B [x T] x A``, the attention weights ``B [x T] x L``)."""
        q = self.src_query(h)
        if h.dim() == 2:
            # Broadcast products, not bmm: a batch of 1 x L products is slow on CPU.
            scores = (state["src_keys"] * q.unsqueeze(1)).sum(-1)
            w = self._masked_softmax(scores, state["src_mask"])
            c = (w.unsqueeze(-1) * state["src_values"]).sum(1)  # B x A
        else:
            scores = q @ state["src_keys"].transpose(1, 2)  # B x T x L
            w = self._masked_softmax(scores, state["src_mask"].unsqueeze(1))
            c = w @ state["src_values"]  # B x T x A
        return c @ state["_src_proj"], (c, w)

    def _input_table(self) -> torch.Tensor:
        """The GRU input projection of every character's embedding, ``(V + 1) x 3D``;
        the last row, zero, is a dropped input."""
        table = self.embed.weight @ self.gru_emb.weight.t()
        return torch.cat([table, table.new_zeros(1, table.shape[1])])

    def _step(self, state, emb_in: torch.Tensor):
        """One GRU step (torch's GRUCell equations) on [embedding; z; contexts] with
        every input projection precomputed. Returns (the contexts' share of the
        output logits, the new state, the "input" style's source context and
        weights or None)."""
        h_prev = state["h"]
        D3 = 3 * self.cfg.decoder_hidden
        ctx, src = self._contexts(state, h_prev)
        ctx_in, ctx_out = ctx.split((D3, ctx.shape[-1] - D3), dim=-1)
        h = _gru_update(emb_in + state["z_in"] + ctx_in, self.gru_hidden(h_prev), h_prev)
        return ctx_out, {**state, "h": h}, src

    def _logits(self, h: torch.Tensor, ctx_out: torch.Tensor) -> torch.Tensor:
        """Output logits: the layer on [h; contexts], the context part precomputed."""
        D = self.cfg.decoder_hidden
        return F.linear(h, self.out.weight[:, :D], self.out.bias) + ctx_out

    def _log_probs(self, state, h: torch.Tensor, logits: torch.Tensor, src) -> torch.Tensor:
        """Log-probabilities of the next character, ``B [x T] x V`` (``x V'`` with
        copying: ids past the vocabulary for the source's unknown characters):
        the generator's softmax, mixed with the copy distribution when copying."""
        if not self.cfg.copy:
            return F.log_softmax(logits, dim=-1)
        c, w = src
        onehot, has = state["src_onehot"], state["has_src"]
        # Kept in float32 (bf16 autocast): small probabilities are what the log reads.
        gate = torch.sigmoid(self.copy_gate(torch.cat([h, c], dim=-1)).float())
        if h.dim() == 3:
            copied, has = (w.float() @ onehot.float()), has.unsqueeze(1)  # B x T x V'
        else:
            copied = (w.float().unsqueeze(1) @ onehot.float()).squeeze(1)  # B x V'
        gate = gate * has
        generated = torch.softmax(logits.float(), dim=-1)
        extra = copied.shape[-1] - generated.shape[-1]
        if extra:
            generated = F.pad(generated, (0, extra))
        return _copy_mix(gate, generated, copied)

    def decode_step(self, state, tokens: torch.Tensor, rows: torch.Tensor | None = None):
        """One step: previous tokens -> (log-probabilities, new state).

        With ``rows`` (indices into the state) only those rows advance: ``tokens``
        and the log-probabilities are theirs, and the other rows keep their
        state (finished hypotheses cost nothing).
        """
        if rows is not None and rows.numel() < state["h"].shape[0]:
            logp, sub = self.decode_step(self.reorder(state, rows), tokens)
            return logp, state | {
                k: state[k].index_copy(0, rows, sub[k]) for k in HYPOTHESIS if k in state
            }
        if self.monotonic:
            return self._monotonic_step(state, tokens)
        inputs = state["_inputs"]
        # A copied unknown character (an id past the vocabulary) is read as a
        # dropped input, the table's zero row, as word dropout trains it to be.
        tokens = tokens.clamp_max(inputs.shape[0] - 1)
        ctx_out, state, src = self._step(state, F.embedding(tokens, inputs))
        if self.src_at_output:
            share, src = self._source_context(state, state["h"])
            ctx_out = ctx_out + share
        h = state["h"]
        return self._log_probs(state, h, self._logits(h, ctx_out), src), state

    @staticmethod
    def reorder(
        state: dict[str, torch.Tensor], index: torch.Tensor, *, hypotheses_only: bool = False
    ) -> dict[str, torch.Tensor]:
        """Select rows ``index`` of the per-row state tensors (beam search).

        With ``hypotheses_only`` only the decoder state is selected: beam search
        moves hypotheses within one input's beam, where z, the tags and the
        source are the same.
        """
        return {
            k: v
            if k.startswith("_") or (hypotheses_only and k not in HYPOTHESIS)
            else v.index_select(0, index)
            for k, v in state.items()
        }

    # -- hard monotonic attention (style "monotonic") ----------------------------

    def _monotonic_step(self, state, tokens: torch.Tensor):
        """One step of the hard monotonic decoder: the previous character's
        emission moves the alignment to p(a_{t-1} | prefix), the GRU steps on the
        character and the expected aligned value, and the next character's
        log-probability sums its emission over p(a_t | prefix)."""
        emit = state["emit"]
        L = emit.shape[1]
        seen = tokens.clamp_max(emit.shape[-1] - 1).view(-1, 1, 1).expand(-1, L, 1)
        joint = state["align"] + emit.gather(-1, seen).squeeze(-1)
        align = joint - joint.logsumexp(-1, keepdim=True)
        inputs = state["_inputs"]
        emb = F.embedding(tokens.clamp_max(inputs.shape[0] - 1), inputs)
        ctx_out, state, _ = self._step(state, emb + self._aligned_input(state, align))
        h = state["h"]
        pred = self.advance(align, self._alignment_scores(state, h))
        emit = self._emissions(state, h, self._logits(h, ctx_out))
        logp = (pred.unsqueeze(-1) + emit).logsumexp(1)
        return logp, {**state, "align": pred, "emit": emit}

    @staticmethod
    def _aligned_input(state, align: torch.Tensor) -> torch.Tensor:
        """The expected aligned value's share of the GRU input, sum_i p(a = i)
        W_v s_i through the GRU's weights: ``B x 3D`` for log-probabilities
        ``align`` (``B x L``). A function of the prefix alone (the alignment
        is summed out), so the likelihood stays exact."""
        p = align.exp().to(state["src_aligned"].dtype)
        return (p.unsqueeze(-1) * state["src_aligned"]).sum(1) @ state["_aligned_proj"]

    @staticmethod
    def advance(align: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """log p(a_t = i) from log p(a_{t-1} = k) and the transition scores (both
        ``... x L``; masked positions NEG): the sum over k <= i of
        p(k) exp(score_i) / sum_{j >= k} exp(score_j)."""
        norm = scores.flip(-1).logcumsumexp(-1).flip(-1)
        norm = norm.masked_fill(scores < NEG / 2, 0.0)  # a masked k is never occupied
        return scores + (align - norm).logcumsumexp(-1)

    def _alignment_scores(self, state, h: torch.Tensor) -> torch.Tensor:
        """Transition scores (W_q h) . (W_k s_i), masked: ``B x L``."""
        q, keys = self.src_query(h).float(), state["src_keys"].float()
        return (keys * q.unsqueeze(1)).sum(-1) + state["src_mask"]

    def _gate(self, state, h: torch.Tensor) -> torch.Tensor:
        """The copy gate g_i at every source position: ``B x L``."""
        D = self.cfg.decoder_hidden
        own = F.linear(h.float(), self.copy_gate.weight[:, :D].float(), self.copy_gate.bias.float())
        return torch.sigmoid(own + state["src_gate"]) * state["has_src"]

    @staticmethod
    def _position_logits(state, logits: torch.Tensor) -> torch.Tensor:
        """The generator's logits with each source position's share, ``B x L x V``,
        from the output logits without the source (``B x V``)."""
        return logits.float().unsqueeze(1) + state["src_logits"]

    def _emissions(self, state, h: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """log p(w | a_t = i), ``B x L x V'``, for one step's state ``h`` and output
        logits without the source (``B x V``)."""
        logits = self._position_logits(state, logits)
        if not self.cfg.copy:
            return F.log_softmax(logits, dim=-1)
        g = self._gate(state, h).unsqueeze(-1)
        onehot = state["src_onehot"].float()
        generated = F.pad(torch.softmax(logits, -1), (0, onehot.shape[-1] - logits.shape[-1]))
        return _copy_mix(g, generated, onehot)

    def _target_emissions(
        self, state, h: torch.Tensor, logits: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """log p(target | a_t = i) at every position, ``B x L``: the column
        ``target`` (``B``) of :meth:`_emissions` without the ``B x L x V'``
        table, the generator's share from its logit and normaliser alone (what
        teacher forcing needs, in fewer and smaller operations)."""
        logits = self._position_logits(state, logits)
        B, L, V = logits.shape
        width = state["src_onehot"].shape[-1] if self.cfg.copy else V
        target = target.clamp_max(width - 1)
        pick = target.clamp_max(V - 1).view(-1, 1, 1).expand(B, L, 1)
        generated = logits.gather(-1, pick).squeeze(-1) - logits.logsumexp(-1)
        if not self.cfg.copy:
            return generated
        # A target past the vocabulary (an unknown character) is never generated.
        generated = generated.exp() * (target < V).to(logits.dtype).unsqueeze(-1)
        g = self._gate(state, h)
        hit = state["src_onehot"].gather(-1, target.view(-1, 1, 1).expand(B, L, 1))
        return _copy_mix(g, generated, hit.squeeze(-1).float())

    def _monotonic_log_likelihood(self, state, inputs: torch.Tensor, targets: torch.Tensor):
        """Teacher-forced log p(targets) of the hard monotonic decoder, ``inputs``
        the previous characters' GRU inputs (``B x T x 3D``): the forward
        algorithm over the alignments, step by step since the GRU reads the
        expected aligned value, on the rows with a source; the rows without
        one (a zero aligned value) emit from the generator alone."""
        B, T = targets.shape
        real = (targets != PAD).float()
        has = state["has_src"].squeeze(-1) > 0
        rows, plain = has.nonzero().squeeze(1), (~has).nonzero().squeeze(1)
        st = {k: state[k][rows] for k in ALIGN_INPUTS if k in state}
        st["_aligned_proj"] = state["_aligned_proj"]
        align, acc = st["align"], real.new_zeros(len(rows))
        # The aligned value of a_0 = 0 first; zero for the rows without a source.
        feed = inputs.new_zeros(B, inputs.shape[-1])
        feed = feed.index_copy(0, rows, self._aligned_input(st, align).to(feed.dtype))
        hs, outs = [], []
        for t, emb in enumerate(inputs.unbind(1)):
            ctx_out, state, _ = self._step(state, emb + feed)
            h = self._dropout(state["h"])
            hs.append(h)
            outs.append(ctx_out)
            if not rows.numel():
                continue
            h = h[rows]
            logits = self._logits(h, ctx_out[rows])
            log_e = self._target_emissions(st, h, logits, targets[rows, t])  # n x L
            joint = self.advance(align, self._alignment_scores(st, h)) + log_e
            lp = joint.logsumexp(-1)
            align = joint - lp.unsqueeze(-1)
            acc = acc + lp * real[rows, t]
            feed = feed.index_copy(0, rows, self._aligned_input(st, align).to(feed.dtype))
        total = real.new_zeros(B).index_copy(0, rows, acc)
        if plain.numel():
            hs, outs = torch.stack(hs, dim=1)[plain], torch.stack(outs, dim=1)[plain]
            lp = F.log_softmax(self._logits(hs, outs).float(), -1)
            V, tgt = lp.shape[-1], targets[plain]
            lp = lp.gather(-1, tgt.clamp_max(V - 1).unsqueeze(-1)).squeeze(-1)
            if self.cfg.copy:  # as a step computes it: probabilities floored at TINY
                lp = torch.log(lp.exp().clamp_min(TINY))
            lp = lp.masked_fill(tgt >= V, math.log(TINY))
            total = total.index_copy(0, plain, (lp * real[plain]).sum(-1))
        return total

    def log_likelihood(self, state, targets: torch.Tensor) -> torch.Tensor:
        """Teacher-forced log p(targets | state): ``targets`` B x T (ending in EOS,
        PAD after) -> ``B``. Word dropout zeroes whole input embeddings in training.
        """
        B, T = targets.shape
        prev = torch.cat([torch.full((B, 1), BOS, device=targets.device), targets[:, :-1]], dim=1)
        table = state["_inputs"]
        prev = prev.clamp_max(table.shape[0] - 1)  # copied unknowns: a dropped input
        if self.training and self.cfg.word_dropout > 0:
            # A dropped input reads the table's zero row: its embedding, and so its
            # share of the GRU input, is zero.
            drop = torch.rand(B, T, device=prev.device) < self.cfg.word_dropout
            prev = prev.masked_fill(drop, table.shape[0] - 1)
        if self.monotonic:
            return self._monotonic_log_likelihood(state, F.embedding(prev, table), targets)
        hs, outs, srcs = [], [], []
        for prev_t in prev.unbind(1):
            ctx_out, state, src = self._step(state, F.embedding(prev_t, table))
            hs.append(state["h"])
            outs.append(ctx_out)
            srcs.append(src)
        hs, outs = self._dropout(torch.stack(hs, dim=1)), torch.stack(outs, dim=1)
        src = None
        if self.src_at_output:
            share, src = self._source_context(state, hs)
            outs = outs + share
        elif self.src_in_step:
            src = tuple(torch.stack(parts, dim=1) for parts in zip(*srcs, strict=True))
        logp = self._log_probs(state, hs, self._logits(hs, outs), src)
        token_logp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return (token_logp * (targets != PAD).to(token_logp.dtype)).sum(-1)
