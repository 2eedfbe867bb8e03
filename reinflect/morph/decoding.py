"""Greedy and batched beam search over ``model.decode_step``.

Both are pure functions of a model exposing ``decode_step(state, tokens) ->
(log_probs B x V, state)`` and ``reorder(state, index)``, and a start
state. Hypotheses stop at EOS (the original MSVED code tested the hidden
state instead, so its hypotheses never stopped). Beam search is vectorized
over batch x beam: no Python loop over hypotheses. With beam 1 it is greedy.
"""

from __future__ import annotations

import torch

from reinflect.morph.vocab import BOS, EOS, PAD


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
        logp, state = model.decode_step(state, tokens)
        best, tokens = logp.max(-1)
        tokens = tokens.masked_fill(done, PAD)
        score = score + best.masked_fill(done, 0.0)
        out.append(tokens)
        done = done | (tokens == EOS)
        if bool(done.all()):
            break
    return torch.stack(out, dim=1), score


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
        logp, state = model.decode_step(state, tokens)
        V = logp.shape[-1]
        logp = logp.view(B, K, V)
        # A finished hypothesis continues only with PAD, at no cost.
        frozen = torch.full_like(logp, float("-inf"))
        frozen[..., PAD] = 0.0
        logp = torch.where(finished.unsqueeze(-1), frozen, logp)
        cand = (scores.unsqueeze(-1) + logp).view(B, K * V)
        scores, flat = cand.topk(K, dim=-1)
        origin, tok = flat // V, flat % V
        rows = (origin + torch.arange(B, device=device).unsqueeze(1) * K).view(-1)
        state = model.reorder(state, rows)
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
