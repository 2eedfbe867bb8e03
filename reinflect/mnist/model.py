"""M1 and M2 for MNIST, built from :mod:`reinflect.vae` parts.

M1 (Kingma & Welling 2014): p(x|z) p(z), q(z|x).
M2 (Kingma et al. 2014, section 3.1.2): p(x|y,z) p(y) p(z), q(y|x), q(z|x,y).
Pixels are Bernoulli; the models return distributions and log-likelihoods,
the losses live in :mod:`reinflect.mnist.objective`.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from reinflect.vae import distributions

PIXELS = 784
CLASSES = 10
ACTIVATIONS = {"softplus": nn.Softplus, "relu": nn.ReLU, "tanh": nn.Tanh, "gated": nn.Identity}


class GatedLinear(nn.Module):
    """h = (W x + b) * sigmoid(V x + c): the gated layer of Dauphin et al. (2017), as
    used for the VAE baselines of Tomczak & Welling (2018, VampPrior)."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.lin = nn.Linear(a, 2 * b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, g = self.lin(x).chunk(2, dim=-1)
        return h * torch.sigmoid(g)


def mlp(sizes: list[int], activation: str, *, last_activation: bool = False) -> nn.Sequential:
    """Linear layers with ``activation`` between them (after the last too with
    ``last_activation``). ``gated`` makes every hidden layer a :class:`GatedLinear`.
    """
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        hidden = last_activation or i < len(sizes) - 2
        layers.append(GatedLinear(a, b) if hidden and activation == "gated" else nn.Linear(a, b))
        if hidden:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def bernoulli_log_prob(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_d log Bernoulli(x_d; sigmoid(logits_d)), ``... x 784`` -> ``...``.

    Grayscale x in [0, 1] gives the cross-entropy used by Kingma et al. and Pyro.
    """
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(
        -1
    )


class GaussianHead(nn.Module):
    """MLP -> (mu, logvar) of a diagonal Gaussian."""

    def __init__(self, *, inputs: int, hidden: tuple[int, ...], latent: int, activation: str):
        super().__init__()
        self.body = mlp([inputs, *hidden], activation, last_activation=True)
        self.out = nn.Linear(hidden[-1], 2 * latent)

    def forward(self, h: torch.Tensor) -> distributions.DiagGaussian:
        mu, logvar = self.out(self.body(h)).chunk(2, dim=-1)
        return distributions.DiagGaussian(mu, logvar)


class M1(nn.Module):
    """The VAE: q(z|x) = N(mu(x), sigma^2(x)), p(x|z) Bernoulli."""

    def __init__(self, *, latent: int, hidden: tuple[int, ...], activation: str):
        super().__init__()
        self.latent = latent
        self.encoder = GaussianHead(
            inputs=PIXELS, hidden=hidden, latent=latent, activation=activation
        )
        self.decoder = mlp([latent, *reversed(hidden), PIXELS], activation)

    def posterior(self, x: torch.Tensor) -> distributions.DiagGaussian:
        """q(z|x); ``x`` is ``B x 784``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x|z), ``... x 784``."""
        return self.decoder(z)


class M2(nn.Module):
    """The semi-supervised generative model with classifier q(y|x)."""

    def __init__(self, *, latent: int, hidden: tuple[int, ...], activation: str):
        super().__init__()
        self.latent = latent
        self.classifier = mlp([PIXELS, *hidden, CLASSES], activation)
        self.encoder = GaussianHead(
            inputs=PIXELS + CLASSES, hidden=hidden, latent=latent, activation=activation
        )
        self.decoder = mlp([latent + CLASSES, *reversed(hidden), PIXELS], activation)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of q(y|x), ``B x 10``."""
        return self.classifier(x)

    def posterior(self, x: torch.Tensor, y: torch.Tensor) -> distributions.DiagGaussian:
        """q(z|x, y); ``y`` one-hot (or relaxed) ``B x 10``."""
        return self.encoder(torch.cat([x, y], dim=-1))

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits of p(x|y, z), ``B x 784``."""
        return self.decoder(torch.cat([z, y], dim=-1))


def build(cfg) -> M1 | M2:
    cls = M1 if cfg.model == "m1" else M2
    return cls(latent=cfg.latent, hidden=tuple(cfg.hidden), activation=cfg.activation)
