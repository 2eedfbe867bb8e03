"""Closed-form KL terms against Monte Carlo and torch.distributions."""

import math

import pytest
import torch

from reinflect.vae import distributions, kl


def test_gaussian_standard_matches_monte_carlo():
    mu = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]])
    logvar = torch.tensor([[-0.5, 0.2, 0.0], [1.0, -1.5, 0.4]])
    q = distributions.DiagGaussian(mu, logvar)
    z = q.rsample(200_000)
    mc = (q.log_prob(z) - distributions.standard_normal_log_prob(z)).mean(0)
    exact = kl.gaussian_standard(mu, logvar)
    assert exact.shape == (2,)
    # Monte Carlo standard error is well below 0.02 nats here.
    assert torch.allclose(mc, exact, atol=0.03)


def test_gaussian_pair_matches_monte_carlo_and_torch():
    mu_q, lv_q = torch.tensor([[0.2, -0.4]]), torch.tensor([[-0.3, 0.5]])
    mu_p, lv_p = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.4, -0.2]])
    q, p = distributions.DiagGaussian(mu_q, lv_q), distributions.DiagGaussian(mu_p, lv_p)
    z = q.rsample(200_000)
    mc = (q.log_prob(z) - p.log_prob(z)).mean(0)
    exact = kl.gaussian(mu_q, lv_q, mu_p, lv_p)
    assert torch.allclose(mc, exact, atol=0.03)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu_q, (0.5 * lv_q).exp()),
        torch.distributions.Normal(mu_p, (0.5 * lv_p).exp()),
    ).sum(-1)
    assert torch.allclose(exact, ref, atol=1e-5)
    # Against N(0, I) the general form reduces to the standard one.
    zeros = torch.zeros_like(mu_q)
    assert torch.allclose(kl.gaussian(mu_q, lv_q, zeros, zeros), kl.gaussian_standard(mu_q, lv_q))


def test_categorical_matches_monte_carlo_and_uniform_special_case():
    logits_q = torch.tensor([[2.0, 0.0, -1.0, 0.5]])
    logits_p = torch.tensor([[0.0, 1.0, 0.0, -0.5]])
    idx = torch.distributions.Categorical(logits=logits_q).sample((200_000,))
    lq = torch.log_softmax(logits_q, -1)[0, idx]
    lp = torch.log_softmax(logits_p, -1)[0, idx]
    assert kl.categorical(logits_q, logits_p).item() == pytest.approx(
        (lq - lp).mean().item(), abs=0.02
    )
    uniform = kl.categorical(logits_q)
    assert torch.allclose(uniform, kl.categorical(logits_q, torch.zeros_like(logits_q)), atol=1e-6)
    assert torch.allclose(uniform, math.log(4) - kl.categorical_entropy(logits_q))


def test_kl_is_zero_only_at_the_prior():
    assert kl.gaussian_standard(torch.zeros(1, 5), torch.zeros(1, 5)).item() == pytest.approx(0.0)
    assert kl.gaussian_standard(torch.ones(1, 5), torch.zeros(1, 5)).item() == pytest.approx(2.5)
    assert kl.categorical(torch.zeros(1, 7)).item() == pytest.approx(0.0, abs=1e-6)
