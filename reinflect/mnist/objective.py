"""Losses of M1 and M2, assembled from :mod:`reinflect.vae.elbo`."""

from __future__ import annotations

import torch

from reinflect.mnist import model as mnist_model
from reinflect.vae import elbo, estimators, kl


def m1_loss(model: mnist_model.M1, x: torch.Tensor, *, kl_weight: float = 1.0):
    """Negative (weighted) ELBO of the VAE, one z sample (Kingma & Welling 2014, eq. 10)."""
    q = model.posterior(x)
    z = q.rsample()
    log_px = mnist_model.bernoulli_log_prob(model.decode(z), x)
    kl_z = kl.gaussian_standard(q.mu, q.logvar)
    loss = -(log_px - kl_weight * kl_z).mean()
    stats = {
        "loss": loss.detach(),
        "elbo": (log_px - kl_z).mean().detach(),
        "log_px": log_px.mean().detach(),
        "kl_z": kl_z.mean().detach(),
    }
    return loss, stats


@torch.no_grad()
def m1_log_likelihood(model: mnist_model.M1, x: torch.Tensor, *, samples: int, chunk: int = 100):
    """IWAE estimate of log p(x) with ``samples`` importance samples, ``B`` (Burda et al. 2016)."""
    q = model.posterior(x)
    parts = []
    for start in range(0, samples, chunk):
        n = min(chunk, samples - start)
        z = q.rsample(n)  # n x B x D
        log_px = mnist_model.bernoulli_log_prob(model.decode(z), x)
        parts.append(elbo.gaussian_log_weights(log_px, z, q))
    return elbo.iwae(torch.cat(parts, dim=0))


def m2_conditional(model: mnist_model.M2, x: torch.Tensor) -> elbo.Conditional:
    """The ``conditional`` callable of :func:`reinflect.vae.elbo.unlabeled` for M2."""

    def conditional(ys: list[torch.Tensor]):
        (y,) = ys
        xr = x.repeat(y.shape[0] // x.shape[0], 1)
        q = model.posterior(xr, y)
        z = q.rsample()
        log_px = mnist_model.bernoulli_log_prob(model.decode(z, y), xr)
        return log_px, kl.gaussian_standard(q.mu, q.logvar)

    return conditional


def m2_labeled(model: mnist_model.M2, x, y, *, alpha: float, kl_weight: float = 1.0):
    """Labeled M2 term -L(x, y) + alpha * -log q(y|x) (Kingma et al. 2014, eq. 9)."""
    y_onehot = torch.nn.functional.one_hot(y, mnist_model.CLASSES).float()
    log_px, kl_z = m2_conditional(model, x)([y_onehot])
    return elbo.labeled(
        log_px=log_px,
        kl_z=kl_z,
        y_logits=[model.classify(x)],
        y=[y],
        kl_weight=kl_weight,
        alpha=alpha,
    )


def m2_unlabeled(
    model: mnist_model.M2,
    x: torch.Tensor,
    *,
    estimator: str,
    kl_weight: float = 1.0,
    temperature: float = 1.0,
    baseline: estimators.RunningBaseline | None = None,
):
    """Unlabeled M2 term -U(x) with y enumerated, Gumbel-sampled or REINFORCE-sampled."""
    return elbo.unlabeled(
        conditional=m2_conditional(model, x),
        y_logits=[model.classify(x)],
        estimator=estimator,
        kl_weight=kl_weight,
        temperature=temperature,
        baseline=baseline,
    )
