"""Gaussian densities, the reparameterization, and straight-through Gumbel-softmax."""

import pytest
import torch

from reinflect.vae import distributions


def test_gaussian_log_prob_and_entropy_match_torch():
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    q = distributions.DiagGaussian(mu, logvar)
    ref = torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * logvar).exp()), 1)
    z = torch.randn(4, 3)
    assert torch.allclose(q.log_prob(z), ref.log_prob(z), atol=1e-5)
    assert torch.allclose(q.entropy(), ref.entropy(), atol=1e-5)


def test_rsample_moments_and_gradient():
    mu = torch.tensor([1.0, -2.0], requires_grad=True)
    logvar = torch.tensor([0.0, 1.0], requires_grad=True)
    z = distributions.DiagGaussian(mu, logvar).rsample(100_000)
    assert z.shape == (100_000, 2)
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.03)
    assert torch.allclose(z.var(0), logvar.detach().exp(), rtol=0.03)
    z.mean().backward()  # reparameterized: gradient reaches mu and logvar
    assert torch.allclose(mu.grad, torch.full((2,), 0.5))
    assert logvar.grad is not None


def test_straight_through_is_one_hot_forward_with_gradient():
    logits = torch.randn(64, 5, requires_grad=True)
    y = distributions.gumbel_softmax(logits, temperature=0.7, straight_through=True)
    assert torch.equal(y.sum(-1), torch.ones(64))
    assert set(y.unique().tolist()) == {0.0, 1.0}
    weights = torch.randn(5)
    (y * weights).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_soft_gumbel_is_on_the_simplex_and_sharpens_with_low_temperature():
    logits = torch.randn(2000, 4)
    soft = distributions.gumbel_softmax(logits, temperature=1.0, straight_through=False)
    assert torch.allclose(soft.sum(-1), torch.ones(2000), atol=1e-5)
    cold = distributions.gumbel_softmax(logits, temperature=0.05, straight_through=False)
    assert cold.max(-1).values.mean() > soft.max(-1).values.mean() + 0.1


def test_gumbel_samples_follow_the_categorical():
    logits = torch.tensor([[1.0, 0.0, -1.0]]).expand(50_000, 3)
    y = distributions.gumbel_softmax(logits, temperature=1.0, straight_through=True)
    assert torch.allclose(y.mean(0), torch.softmax(logits[0], -1), atol=0.01)


def test_bad_temperature_is_rejected():
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        distributions.gumbel_softmax(torch.zeros(1, 3), temperature=0)
