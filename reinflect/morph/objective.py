"""MSVED's labeled and unlabeled losses, built from :mod:`reinflect.vae`.

Labeled triple (x_s, y_t, x_t), source tags hidden (Zhou & Neubig 2017,
section 3.3): encode both words (z_s, z_t ~ q(z|x)); y_s ~ q(y|x_s) by
straight-through Gumbel-softmax; reconstruct x_t from (z_s, y_t) -- the
transduction used at test time -- x_s from (z_t, y_s), and the two
self-reconstructions x_s from (z_s, y_s), x_t from (z_t, y_t). All four run
as one decoder pass over 4B rows. Loss = -sum of the four log-likelihoods
+ kl_w (KL_s + KL_t) + KL(q(y|x_s) || p(y)) + alpha * CE(q(y|x_t), y_t).
The y-KL terms carry their own weight (``y_kl_weight``; 1 is the paper's).

Unlabeled word x (the MSVAE term, section 3.4): y ~ q(y|x) by Gumbel,
z ~ q(z|x); loss = -log p(x|y,z) + kl_w KL(z) + KL(q(y|x) || p(y)).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from reinflect.morph import model as morph_model
from reinflect.morph.vocab import PAD
from reinflect.vae import distributions, elbo, kl


def _pad_to(x: torch.Tensor, length: int, value: float) -> torch.Tensor:
    return F.pad(x, (0, 0) * (x.dim() - 2) + (0, length - x.shape[1]), value=value)


def _stack_rows(parts: list[torch.Tensor], value: float) -> torch.Tensor:
    """Concatenate along the batch after padding dimension 1 to a common length."""
    n = max(p.shape[1] for p in parts)
    return torch.cat([_pad_to(p, n, value) for p in parts], dim=0)


def labeled(
    model: morph_model.MSVED,
    batch: dict[str, torch.Tensor],
    *,
    kl_weight: float,
    temperature: float,
    alpha: float = 1.0,
    y_kl_weight: float = 1.0,
):
    """The labeled MSVED loss for a batch of (source, target tags, target)."""
    src, src_len = batch["source"], batch["source_len"]
    tgt, tgt_len = batch["target"], batch["target_len"]
    y_t = batch["tags"]  # B x K
    # One encoder pass over both words; it reads the characters without the EOS
    # that the decoder targets end in.
    states, mask, h = model.encode(_stack_rows([src, tgt], PAD), torch.cat([src_len, tgt_len]) - 1)
    h_s, h_t = h.chunk(2)
    q_s, q_t = model.posterior(h_s), model.posterior(h_t)
    z_s, z_t = q_s.rsample(), q_t.rsample()
    ys_logits, yt_logits = model.tag_logits(h_s), model.tag_logits(h_t)
    ys = [
        distributions.gumbel_softmax(lg, temperature=temperature, straight_through=True)
        for lg in ys_logits
    ]
    yt = [F.one_hot(y_t[:, k], c).to(z_s.dtype) for k, c in enumerate(model.tag_sizes)]

    z = torch.cat([z_s, z_t, z_s, z_t])
    y = [torch.cat([a, b, b, a]) for a, b in zip(yt, ys, strict=True)]
    # With source attention each row attends over the word its z came from.
    source = (torch.cat([states, states]), torch.cat([mask, mask])) if states is not None else None
    targets = _stack_rows([tgt, src, src, tgt], PAD)
    logp = model.log_likelihood(model.start(z, y, source), targets).view(4, -1)
    recon = logp.sum(0)
    kl_z = kl.gaussian_standard(q_s.mu, q_s.logvar) + kl.gaussian_standard(q_t.mu, q_t.logvar)
    kl_ys = sum(kl.categorical(lg) for lg in ys_logits)
    loss, stats = elbo.labeled(
        log_px=recon,
        kl_z=kl_z,
        y_logits=yt_logits,
        y=[y_t[:, k] for k in range(y_t.shape[1])],
        kl_weight=kl_weight,
        alpha=alpha,
    )
    loss = loss + y_kl_weight * kl_ys.mean()
    stats |= {
        "loss": loss.detach(),
        "transduction": logp[0].mean().detach(),
        "kl_ys": kl_ys.mean().detach(),
    }
    return loss, stats


def unlabeled(
    model: morph_model.MSVED,
    batch: dict[str, torch.Tensor],
    *,
    kl_weight: float,
    temperature: float,
    y_kl_weight: float = 1.0,
):
    """The unlabeled MSVAE loss for a batch of words."""
    words, lengths = batch["word"], batch["word_len"]
    states, mask, h = model.encode(words, lengths - 1)
    q = model.posterior(h)
    source = (states, mask) if model.cfg.source_attention else None

    def conditional(ys: list[torch.Tensor]):
        log_px = model.log_likelihood(model.start(q.rsample(), ys, source), words)
        return log_px, kl.gaussian_standard(q.mu, q.logvar)

    return elbo.unlabeled(
        conditional=conditional,
        y_logits=model.tag_logits(h),
        estimator="gumbel",
        kl_weight=kl_weight,
        y_kl_weight=y_kl_weight,
        temperature=temperature,
    )
