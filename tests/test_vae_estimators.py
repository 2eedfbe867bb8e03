"""The score-function estimator is unbiased and the NVIL baseline lowers its variance."""

import torch

from reinflect.vae import estimators


def _per_sample_grads(theta, f, n, baseline=None):
    """REINFORCE estimates of grad_theta E_{softmax(theta)}[f(y)], one row per sample."""
    logits = theta.detach().repeat(n, 1).requires_grad_()
    y = torch.distributions.Categorical(logits=logits.detach()).sample()
    log_q = torch.log_softmax(logits, -1).gather(1, y[:, None]).squeeze(1)
    # surrogate() is a loss: its gradient is minus the ascent direction.
    estimators.surrogate(log_q, f[y], baseline).sum().backward()
    return -logits.grad


def test_score_function_matches_exact_gradient():
    theta = torch.tensor([0.5, -0.3, 1.2, 0.0], requires_grad=True)
    f = torch.tensor([1.0, -2.0, 0.5, 3.0])
    (torch.softmax(theta, -1) * f).sum().backward()
    exact = theta.grad.clone()
    g = _per_sample_grads(theta, f, 100_000)
    se = g.std(0) / g.shape[0] ** 0.5
    assert torch.all((g.mean(0) - exact).abs() < 4 * se + 1e-4), (g.mean(0), exact)


def test_running_baseline_keeps_estimate_unbiased_and_lowers_variance():
    theta = torch.tensor([0.2, -0.1, 0.4])
    f = torch.tensor([100.0, 101.0, 103.0])  # a large offset: plain REINFORCE is noisy
    t = theta.clone().requires_grad_()
    (torch.softmax(t, -1) * f).sum().backward()
    exact = t.grad

    plain = _per_sample_grads(theta, f, 20_000)
    base = estimators.RunningBaseline(decay=0.9, standardize=False)
    for _ in range(50):  # warm the running mean on batches of 100
        _per_sample_grads(theta, f, 100, base)
    centred = torch.cat([_per_sample_grads(theta, f, 100, base) for _ in range(200)])
    assert centred.var(0).sum() < 0.01 * plain.var(0).sum()
    se = centred.std(0) / centred.shape[0] ** 0.5
    assert torch.all((centred.mean(0) - exact).abs() < 4 * se + 1e-3)


def test_baseline_tracks_mean_and_scales_by_std():
    base = estimators.RunningBaseline(decay=0.5)
    for _ in range(40):
        signal = base.signal(torch.full((8,), 50.0) + torch.randn(8) * 4)
    assert abs(base.mean.item() - 50.0) < 2.0
    assert signal.abs().mean() < 3.0  # centred and divided by ~std 4
    state = base.state_dict()
    assert {"mean", "var", "initialized"} <= set(state)
