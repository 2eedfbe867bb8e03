"""Evidence lower bounds over K categorical latent groups, as ``(loss, stats)``.

The model supplies the pieces; these functions assemble the bound.

Labeled data, y observed (Kingma et al. 2014, "Semi-Supervised Learning with
Deep Generative Models", eq. 6, plus the classification loss of eq. 9):

    -L(x, y) = -E_q(z)[log p(x|y,z)] + kl_w * KL(q(z) || p(z)) - log p(y)
    loss     = -L(x, y) + alpha * sum_k -log q(y_k|x)

Unlabeled data, y latent (eq. 7): U(x) = E_q(y|x)[L(x, y)] + H(q(y|x)),
computed in one of three ways:

* ``enumerate`` -- the exact sum over all settings of y (Kingma et al.);
* ``gumbel``    -- one (straight-through) Gumbel-softmax sample of y and the
  closed-form KL(q(y|x) || p(y)) (Jang et al. 2017; the MSVAE term of Zhou &
  Neubig 2017);
* ``reinforce`` -- one exact sample of y, the score-function estimator with
  the NVIL baseline for q(y|x) (Mnih & Gregor 2014), and the analytic entropy.

The model's likelihood enters through a *conditional* callable: given one-hot
(or relaxed) y for each group, each ``N x C_k``, it draws z and returns
``(log p(x|y,z), KL(q(z|...) || p(z)))``, both ``N``. For ``enumerate`` the
call is batched over all S settings of y at once: N = S * B, setting-major
(rows s*B .. s*B+B-1 hold setting s), so the callable tiles its inputs with
``x.repeat(N // B, ...)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch.nn import functional as F

from reinflect.vae import distributions, estimators, kl

ESTIMATORS = ("enumerate", "gumbel", "reinforce")

Conditional = Callable[[list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]


def _log_prior(
    y_onehot: Sequence[torch.Tensor], y_prior: Sequence[torch.Tensor] | None
) -> torch.Tensor:
    """log p(y) = sum_k log p_k(y_k) for one-hot ``y_onehot`` (each ``N x C_k``) -> ``N``."""
    total = torch.zeros(y_onehot[0].shape[0], device=y_onehot[0].device)
    for k, y in enumerate(y_onehot):
        if y_prior is None:
            total = total - math.log(y.shape[-1])
        else:
            total = total + (y * F.log_softmax(y_prior[k], dim=-1)).sum(-1)
    return total


def labeled(
    *,
    log_px: torch.Tensor,
    kl_z: torch.Tensor,
    y_logits: Sequence[torch.Tensor],
    y: Sequence[torch.Tensor],
    kl_weight: float = 1.0,
    alpha: float = 1.0,
    y_prior: Sequence[torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The labeled objective: negative weighted ELBO plus alpha * classifier CE.

    ``log_px``, ``kl_z``: ``B``; ``y_logits[k]``: ``B x C_k`` from q(y_k|x);
    ``y[k]``: ``B`` class indices. Returns the batch-mean loss and detached stats
    (``elbo`` is the unweighted bound, kl_w = 1, in nats per example).
    """
    onehot = [F.one_hot(t, logits.shape[-1]).float() for t, logits in zip(y, y_logits, strict=True)]
    log_py = _log_prior(onehot, y_prior)
    neg_elbo_w = -(log_px - kl_weight * kl_z + log_py)
    ce = sum(F.cross_entropy(lg, t, reduction="none") for lg, t in zip(y_logits, y, strict=True))
    loss = neg_elbo_w.mean() + alpha * ce.mean()
    stats = {
        "loss": loss.detach(),
        "elbo": (log_px - kl_z + log_py).mean().detach(),
        "log_px": log_px.mean().detach(),
        "kl_z": kl_z.mean().detach(),
        "ce": ce.mean().detach(),
    }
    return loss, stats


def enumerate_settings(sizes: Sequence[int], batch: int, device=None) -> list[torch.Tensor]:
    """All S = prod(sizes) joint settings of y as one-hots, each ``(S*B) x C_k``, setting-major."""
    combos = torch.tensor(list(itertools.product(*[range(c) for c in sizes])), device=device)
    idx = combos.repeat_interleave(batch, dim=0)  # (S*B) x K
    return [F.one_hot(idx[:, k], c).float() for k, c in enumerate(sizes)]


def unlabeled(
    *,
    conditional: Conditional,
    y_logits: Sequence[torch.Tensor],
    estimator: str = "gumbel",
    kl_weight: float = 1.0,
    y_kl_weight: float = 1.0,
    temperature: float = 1.0,
    straight_through: bool = True,
    baseline: estimators.RunningBaseline | None = None,
    y_prior: Sequence[torch.Tensor] | None = None,
    max_enumerate: int = 256,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The unlabeled objective -U(x), batch mean, and detached stats.

    ``y_logits[k]`` is ``B x C_k``. See the module docstring for the
    estimators and the ``conditional`` contract. ``y_kl_weight`` scales the
    y terms of the objective, KL(q(y|x) || p(y)) = -H(q(y|x)) - E_q[log p(y)],
    as ``kl_weight`` scales KL(z); the reported ``elbo`` is unweighted.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
    batch = y_logits[0].shape[0]
    log_q = [F.log_softmax(lg, dim=-1) for lg in y_logits]
    entropy = sum(kl.categorical_entropy(lg) for lg in y_logits)  # B

    if estimator == "enumerate":
        sizes = [lg.shape[-1] for lg in y_logits]
        n_settings = math.prod(sizes)
        if n_settings > max_enumerate:
            raise ValueError(
                f"cannot enumerate {n_settings} joint settings of y (limit {max_enumerate}); "
                "use the gumbel or reinforce estimator"
            )
        ys = enumerate_settings(sizes, batch, device=y_logits[0].device)
        log_px, kl_z = conditional(ys)
        log_px, kl_z = log_px.view(n_settings, batch), kl_z.view(n_settings, batch)
        log_py = _log_prior(ys, y_prior).view(n_settings, batch)
        # log q(y|x) of every setting: S x B
        log_qy = sum(
            (y.view(n_settings, batch, -1) * lq.unsqueeze(0)).sum(-1)
            for y, lq in zip(ys, log_q, strict=True)
        )
        qy = log_qy.exp()
        objective = (qy * (log_px - kl_weight * kl_z + y_kl_weight * log_py)).sum(0)
        objective = objective + y_kl_weight * entropy
        elbo = (qy * (log_px - kl_z + log_py)).sum(0) + entropy
        loss = -objective.mean()
        kl_y = (qy * (log_qy - log_py)).sum(0)
        log_px_mean = (qy * log_px).sum(0).mean()
        kl_z_mean = (qy * kl_z).sum(0).mean()
    elif estimator == "gumbel":
        ys = [
            distributions.gumbel_softmax(
                lg, temperature=temperature, straight_through=straight_through
            )
            for lg in y_logits
        ]
        log_px, kl_z = conditional(ys)
        kl_y = sum(
            kl.categorical(lg, None if y_prior is None else y_prior[k])
            for k, lg in enumerate(y_logits)
        )
        loss = -(log_px - kl_weight * kl_z - y_kl_weight * kl_y).mean()
        elbo = log_px - kl_z - kl_y
        log_px_mean, kl_z_mean = log_px.mean(), kl_z.mean()
    else:  # reinforce
        ys = [distributions.sample_one_hot(lg.detach()) for lg in y_logits]
        log_px, kl_z = conditional(ys)
        log_py = _log_prior(ys, y_prior)
        # f(y), pathwise in the other parameters
        reward = log_px - kl_weight * kl_z + y_kl_weight * log_py
        log_qy = sum((y * lq).sum(-1) for y, lq in zip(ys, log_q, strict=True))
        sf = estimators.surrogate(log_qy, reward, baseline)
        loss = (-(reward + y_kl_weight * entropy) + sf).mean()
        elbo = log_px - kl_z + log_py + entropy
        kl_y = sum(
            kl.categorical(lg, None if y_prior is None else y_prior[k])
            for k, lg in enumerate(y_logits)
        )
        log_px_mean, kl_z_mean = log_px.mean(), kl_z.mean()

    stats = {
        "loss": loss.detach(),
        "elbo": elbo.mean().detach(),
        "log_px": log_px_mean.detach(),
        "kl_z": kl_z_mean.detach(),
        "kl_y": kl_y.mean().detach(),
        "entropy_y": entropy.mean().detach(),
    }
    return loss, stats


def iwae(log_weights: torch.Tensor) -> torch.Tensor:
    """The importance-weighted bound log (1/S) sum_s w_s (Burda et al. 2016, eq. 8).

    ``log_weights``: ``S x B`` with log w_s = log p(x, z_s) - log q(z_s|x),
    z_s ~ q. Returns ``B``. S = 1 gives the ELBO; the bound tightens with S.
    """
    return torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[0])


def gaussian_log_weights(
    log_px: torch.Tensor, z: torch.Tensor, posterior: distributions.DiagGaussian
) -> torch.Tensor:
    """log w = log p(x|z) + log N(z; 0, I) - log q(z|x) for samples ``z`` (``S x B x D``).

    ``log_px`` is ``S x B``; returns ``S x B``.
    """
    return log_px + distributions.standard_normal_log_prob(z) - posterior.log_prob(z)
