"""Greedy and batched beam search over ``model.decode_step``.

Both are pure functions of a start state and a model exposing
``decode_step(state, tokens, rows) -> (log_probs of those rows, state)``, which
advances only the given rows (finished hypotheses cost nothing), and
``reorder(state, index, hypotheses_only=...)``. Hypotheses stop at EOS (the
original MSVED code tested the hidden state instead, so its hypotheses never
stopped). Beam search is vectorized over batch x beam: no Python loop over
hypotheses. With beam 1 it is greedy.
"""

from __future__ import annotations

import torch

from reinflect.morph.vocab import BOS, EOS, PAD, UNK


@torch.no_grad()
def greedy(model, state, *, max_length: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """Argmax decoding: (tokens ``B x T`` ending in EOS or cut at max_length, log-probs ``B``)."""
    B = next(iter(state.values())).shape[0]
    device = next(iter(state.values())).device
    tokens = torch.full((B,), BOS, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    score = torch.zeros(B, device=device)
    out = []
    for _ in range(max_length):
        rows = (~done).nonzero().squeeze(1)
        logp, state = model.decode_step(state, tokens[rows], rows)
        best, tok = logp.max(-1)
        tokens = torch.full_like(tokens, PAD).index_copy(0, rows, tok)
        score = score.index_add(0, rows, best)
        out.append(tokens)
        done = done | (tokens == EOS)
        if bool(done.all()):
            break
    return torch.stack(out, dim=1), score


@torch.no_grad()
def forced(model, state, targets: torch.Tensor) -> torch.Tensor:
    """log p(targets | state) through ``decode_step``, as the searches add it up:
    ``targets`` B x T (each ending in EOS, PAD after) -> ``B``. It scores forms
    the search did not find (reranking's added candidates) on the same scale. A
    copy id the model cannot emit (it does not copy) is scored as UNK, what such
    a model writes for a character it does not know."""
    B, T = targets.shape
    tokens = torch.full((B,), BOS, dtype=torch.long, device=targets.device)
    score = torch.zeros(B, device=targets.device)
    for t in range(T):
        rows = (targets[:, t] != PAD).nonzero().squeeze(1)
        if not len(rows):
            break
        logp, state = model.decode_step(state, tokens[rows], rows)
        ids = targets[rows, t : t + 1]
        ids = ids.masked_fill(ids >= logp.shape[1], UNK)
        score = score.index_add(0, rows, logp.gather(1, ids)[:, 0].float())
        tokens = targets[:, t]
    return score


@torch.no_grad()
def beam_search(
    model, state, *, beam: int = 8, max_length: int = 50, nbest: int = 1
) -> list[list[tuple[list[int], float]]]:
    """Batched beam search: for each input, up to ``nbest`` (token ids without EOS,
    log-probability) pairs, best first.
    """
    if nbest > beam:
        raise ValueError(f"nbest ({nbest}) cannot exceed the beam size ({beam})")
    B = next(iter(state.values())).shape[0]
    device = next(iter(state.values())).device
    K = beam
    state = model.reorder(state, torch.arange(B, device=device).repeat_interleave(K))
    scores = torch.full((B, K), float("-inf"), device=device)
    scores[:, 0] = 0.0  # all beams start identical: keep one alive
    tokens = torch.full((B * K,), BOS, dtype=torch.long, device=device)
    finished = torch.zeros(B, K, dtype=torch.bool, device=device)
    history = torch.zeros(B, K, 0, dtype=torch.long, device=device)
    for _ in range(max_length):
        # Only live hypotheses advance; a finished one continues with PAD at no cost
        # (and so does an empty slot of the first step).
        live_mask = ~finished & (scores > float("-inf"))
        rows = live_mask.view(-1).nonzero().squeeze(1)
        live, state = model.decode_step(state, tokens[rows], rows)
        V = live.shape[-1]
        logp = torch.full((B * K, V), float("-inf"), device=device, dtype=live.dtype)
        logp[:, PAD] = 0.0
        logp = logp.index_copy(0, rows, live).view(B, K, V)
        cand = (scores.unsqueeze(-1) + logp).view(B, K * V)
        scores, flat = cand.topk(K, dim=-1)
        origin, tok = flat // V, flat % V
        rows = (origin + torch.arange(B, device=device).unsqueeze(1) * K).view(-1)
        state = model.reorder(state, rows, hypotheses_only=True)
        history = torch.cat(
            [history.gather(1, origin.unsqueeze(-1).expand_as(history)), tok.unsqueeze(-1)], -1
        )
        finished = finished.gather(1, origin) | (tok == EOS)
        tokens = tok.view(-1)
        if bool(finished.all()):
            break
    results = []
    hist = history.tolist()
    sc = scores.tolist()
    for b in range(B):
        hyps = []
        for k in range(K):
            if sc[b][k] == float("-inf"):
                continue
            ids = [t for t in hist[b][k] if t not in (PAD, EOS)]
            hyps.append((ids, sc[b][k]))
        results.append(hyps[:nbest])
    return results
