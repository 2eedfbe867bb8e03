"""ELBO assembly: estimators agree with exact enumeration; IWAE bounds behave."""

import math

import pytest
import torch
from torch.nn import functional as F

from reinflect.vae import distributions, elbo, estimators


def _toy(batch=4):
    """Two groups (3 and 2 classes); log p(x|y) is linear in the one-hots."""
    logits = [torch.randn(batch, 3, requires_grad=True), torch.randn(batch, 2, requires_grad=True)]
    a, b = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.3, -1.0])

    def conditional(ys):
        return ys[0] @ a + ys[1] @ b, torch.zeros(ys[0].shape[0])

    return logits, conditional, a, b


def test_enumerate_equals_hand_computed_bound():
    logits, conditional, a, b = _toy()
    loss, stats = elbo.unlabeled(conditional=conditional, y_logits=logits, estimator="enumerate")
    q0, q1 = (F.softmax(lg, -1) for lg in logits)
    # E_q[f] + E_q[log p(y)] + H(q), with p uniform.
    ent = -(q0 * q0.log()).sum(-1) - (q1 * q1.log()).sum(-1)
    expected = q0 @ a + q1 @ b - math.log(6) + ent
    assert loss.item() == pytest.approx(-expected.mean().item(), rel=1e-5)
    assert stats["elbo"].item() == pytest.approx(expected.mean().item(), rel=1e-5)


def test_sampling_estimators_are_unbiased_for_value_and_gradient():
    logits, conditional, _, _ = _toy(batch=1)
    exact, _ = elbo.unlabeled(conditional=conditional, y_logits=logits, estimator="enumerate")
    exact_grad = torch.autograd.grad(exact, logits)
    n = 20_000
    big = [lg.detach().expand(n, -1).clone().requires_grad_() for lg in logits]
    for name in ("gumbel", "reinforce"):
        loss, stats = elbo.unlabeled(conditional=conditional, y_logits=big, estimator=name)
        # The hard samples are exact draws from q: the bound's value is unbiased for both.
        assert stats["elbo"].item() == pytest.approx(-exact.item(), abs=0.05), name
    base = estimators.RunningBaseline()
    loss, _ = elbo.unlabeled(
        conditional=conditional, y_logits=big, estimator="reinforce", baseline=base
    )
    grads = torch.autograd.grad(loss, big)
    for g_est, g_exact in zip(grads, exact_grad, strict=True):
        # loss is a batch mean, so the gradient summed over rows is the mean estimate.
        assert torch.allclose(g_est.sum(0), g_exact[0], atol=0.05)


@pytest.mark.parametrize("estimator", ["enumerate", "gumbel"])
def test_y_kl_weight_scales_exactly_the_kl_of_y(estimator):
    """loss(w) = loss(0) + w * KL(q(y|x) || p(y)) (same Gumbel draws); the
    reported bound does not move."""
    logits, conditional, _, _ = _toy()
    q = [F.softmax(lg, -1) for lg in logits]
    kl_y = sum((p * (p.log() + math.log(p.shape[-1]))).sum(-1) for p in q).mean()
    out = {}
    for w in (0.0, 0.3, 1.0):
        torch.manual_seed(0)
        out[w] = elbo.unlabeled(
            conditional=conditional, y_logits=logits, estimator=estimator, y_kl_weight=w
        )
    for w in (0.3, 1.0):
        assert out[w][0].item() == pytest.approx(out[0.0][0].item() + w * kl_y.item(), abs=1e-5)
        assert out[w][1]["elbo"].item() == pytest.approx(out[0.0][1]["elbo"].item(), abs=1e-6)


def test_labeled_objective_terms():
    log_px, kl_z = torch.tensor([-10.0, -20.0]), torch.tensor([2.0, 4.0])
    logits = [torch.tensor([[2.0, 0.0], [0.0, 0.0]])]
    y = [torch.tensor([0, 1])]
    loss, stats = elbo.labeled(
        log_px=log_px, kl_z=kl_z, y_logits=logits, y=y, kl_weight=0.5, alpha=2.0
    )
    ce = F.cross_entropy(logits[0], y[0])
    neg_elbo_w = -(log_px - 0.5 * kl_z - math.log(2)).mean()
    assert loss.item() == pytest.approx((neg_elbo_w + 2.0 * ce).item())
    assert stats["elbo"].item() == pytest.approx((log_px - kl_z - math.log(2)).mean().item())


def test_enumeration_layout_and_limit():
    ys = elbo.enumerate_settings([3, 2], batch=2)
    assert [y.shape for y in ys] == [(12, 3), (12, 2)]
    # setting-major: rows 0-1 are setting (0, 0), rows 2-3 setting (0, 1), ...
    assert ys[0].argmax(-1).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert ys[1].argmax(-1).tolist() == [0, 0, 1, 1] * 3
    logits, conditional, _, _ = _toy()
    with pytest.raises(ValueError, match="cannot enumerate 6 joint settings"):
        elbo.unlabeled(
            conditional=conditional, y_logits=logits, estimator="enumerate", max_enumerate=5
        )
    with pytest.raises(ValueError, match="unknown estimator 'exact'"):
        elbo.unlabeled(conditional=conditional, y_logits=logits, estimator="exact")


def _linear_gaussian_log_weights(x, k, repeats):
    """p(z) = N(0,1), p(x|z) = N(z,1); q(z|x) = N(0.3 x, 0.8): log w, k x repeats."""
    q = distributions.DiagGaussian(
        torch.full((repeats, 1), 0.3 * x), torch.full((repeats, 1), math.log(0.8))
    )
    z = q.rsample(k)
    log_px = -0.5 * (math.log(2 * math.pi) + (x - z) ** 2).sum(-1)
    return elbo.gaussian_log_weights(log_px, z, q)


def test_iwae_bound_tightens_with_k_towards_log_likelihood():
    x = 1.5
    true = -0.5 * (math.log(2 * math.pi * 2.0) + x**2 / 2.0)  # log N(x; 0, 2)
    means = [
        elbo.iwae(_linear_gaussian_log_weights(x, k, 4000)).mean().item() for k in (1, 5, 50, 500)
    ]
    elbo_mean = _linear_gaussian_log_weights(x, 1, 4000).mean().item()
    assert means[0] == pytest.approx(elbo_mean, abs=0.05)
    assert all(a < b + 0.01 for a, b in zip(means, means[1:], strict=False)), means
    assert means[-1] > elbo_mean + 0.1
    assert means[-1] <= true + 0.01 and means[-1] == pytest.approx(true, abs=0.02)
