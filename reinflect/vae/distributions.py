"""Latent distributions used by every model in reinflect.

* :class:`DiagGaussian` -- the reparameterized Gaussian of Kingma & Welling
  (2014), "Auto-Encoding Variational Bayes", section 2.4.
* :func:`gumbel_softmax` -- the Gumbel-softmax / Concrete relaxation of a
  categorical (Jang, Gu & Poole 2017; Maddison, Mnih & Teh 2017), with the
  straight-through option (hard one-hot forward, soft gradient backward).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

LOG_2PI = math.log(2.0 * math.pi)


@dataclass
class DiagGaussian:
    """N(mu, diag(exp(logvar))) over the last dimension.

    ``mu`` and ``logvar`` are ``B x D`` (any leading shape works); densities are
    summed over ``D`` and returned with the leading shape.
    """

    mu: torch.Tensor
    logvar: torch.Tensor

    @property
    def std(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def rsample(self, n: int | None = None) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I): differentiable in mu and logvar.

        Returns ``B x D``, or ``n x B x D`` when ``n`` is given.
        """
        shape = self.mu.shape if n is None else (n, *self.mu.shape)
        eps = torch.randn(shape, dtype=self.mu.dtype, device=self.mu.device)
        return self.mu + self.std * eps

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; mu, sigma^2), summed over the last dimension (broadcasts)."""
        return -0.5 * (LOG_2PI + self.logvar + (z - self.mu) ** 2 / torch.exp(self.logvar)).sum(-1)

    def entropy(self) -> torch.Tensor:
        """H = 1/2 * sum_d (1 + log 2 pi + logvar_d)."""
        return 0.5 * (1.0 + LOG_2PI + self.logvar).sum(-1)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I), summed over the last dimension."""
    return -0.5 * (LOG_2PI + z**2).sum(-1)


def gumbel_softmax(
    logits: torch.Tensor, *, temperature: float, straight_through: bool = True
) -> torch.Tensor:
    """A relaxed one-hot sample from Categorical(softmax(logits)), ``B x C``.

    With ``straight_through`` the forward value is the hard one-hot
    argmax of the relaxed sample while the gradient is that of the soft
    sample (Jang et al. 2017, section 2.2). Uses torch's maintained
    implementation of the relaxation.
    """
    if temperature <= 0:
        raise ValueError(f"Gumbel-softmax temperature must be positive, got {temperature}")
    return F.gumbel_softmax(logits, tau=temperature, hard=straight_through, dim=-1)


def sample_one_hot(logits: torch.Tensor) -> torch.Tensor:
    """An exact (non-differentiable) one-hot sample from Categorical(softmax(logits))."""
    idx = torch.distributions.Categorical(logits=logits).sample()
    return F.one_hot(idx, logits.shape[-1]).to(logits.dtype)
