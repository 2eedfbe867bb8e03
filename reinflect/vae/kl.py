"""Closed-form KL divergences.

Gaussian terms follow Kingma & Welling (2014), appendix B; the categorical
term is the discrete KL used for the y-latents of Kingma et al. (2014, M2)
and Zhou & Neubig (2017, MSVED).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def gaussian_standard(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - sigma^2).

    ``B x D`` -> ``B``.
    """
    return -0.5 * (1.0 + logvar - mu**2 - torch.exp(logvar)).sum(-1)


def gaussian(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu_q, s_q^2) || N(mu_p, s_p^2)) for diagonal Gaussians, ``B x D`` -> ``B``.

    = 1/2 sum(logvar_p - logvar_q + (s_q^2 + (mu_q - mu_p)^2) / s_p^2 - 1).
    """
    return 0.5 * (
        logvar_p - logvar_q + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / torch.exp(logvar_p) - 1.0
    ).sum(-1)


def categorical(logits_q: torch.Tensor, logits_p: torch.Tensor | None = None) -> torch.Tensor:
    """KL(Cat(softmax(logits_q)) || Cat(softmax(logits_p))), ``B x C`` -> ``B``.

    With ``logits_p=None`` the prior is uniform over the C classes, so
    KL = sum q log q + log C = log C - H(q).
    """
    log_q = F.log_softmax(logits_q, dim=-1)
    q = log_q.exp()
    if logits_p is None:
        return (q * log_q).sum(-1) + math.log(logits_q.shape[-1])
    log_p = F.log_softmax(logits_p, dim=-1)
    return (q * (log_q - log_p)).sum(-1)


def categorical_entropy(logits: torch.Tensor) -> torch.Tensor:
    """H(Cat(softmax(logits))), ``B x C`` -> ``B``."""
    log_q = F.log_softmax(logits, dim=-1)
    return -(log_q.exp() * log_q).sum(-1)
