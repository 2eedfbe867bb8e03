"""The score-function (REINFORCE) gradient estimator for discrete latents.

For an expectation E_{q_phi(y)}[f(y)] the score-function identity gives
grad_phi E[f] = E[(f(y) - b) grad_phi log q_phi(y)] for any b independent of
y (Williams 1992). NVIL (Mnih & Gregor 2014, "Neural Variational Inference
and Learning in Belief Networks", section 3.3) lowers its variance by centring
the learning signal with a running mean and dividing by a running standard
deviation; :class:`RunningBaseline` keeps those statistics.
"""

from __future__ import annotations

import torch


class RunningBaseline(torch.nn.Module):
    """Exponential moving mean and variance of the learning signal (NVIL).

    The statistics are buffers, so they are saved with the model's
    ``state_dict``. ``decay`` is the weight of the old value (NVIL: 0.8-0.9).
    """

    def __init__(self, *, decay: float = 0.9, standardize: bool = True) -> None:
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"baseline decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.standardize = standardize
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("var", torch.ones(()))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def signal(self, reward: torch.Tensor) -> torch.Tensor:
        """The centred (and scaled) learning signal for ``reward`` (``B``).

        Uses the statistics *before* this batch, then updates them, so the
        baseline never depends on the sample it centres.
        """
        reward = reward.detach()
        if not bool(self.initialized):
            self.mean.copy_(reward.mean())
            self.var.copy_(reward.var(unbiased=False) if reward.numel() > 1 else torch.ones(()))
            self.initialized.fill_(True)
        centred = reward - self.mean
        if self.standardize:
            # NVIL divides by max(1, std) so that small signals are not blown up.
            centred = centred / torch.clamp(self.var.sqrt(), min=1.0)
        d = self.decay
        self.mean.mul_(d).add_((1 - d) * reward.mean())
        self.var.mul_(d).add_((1 - d) * ((reward - self.mean) ** 2).mean())
        return centred


def surrogate(
    log_q: torch.Tensor, reward: torch.Tensor, baseline: RunningBaseline | None = None
) -> torch.Tensor:
    """A per-example surrogate *loss* whose gradient is the REINFORCE estimate.

    ``log_q`` (``B``) is log q_phi(y) of the sampled y, with gradient;
    ``reward`` (``B``) is f(y), treated as a constant. Minimizing the returned
    ``B`` tensor ascends E_q[f]: grad = -(f - b) * grad log q. The value of
    the surrogate is meaningless; only its gradient matters.
    """
    signal = reward.detach() if baseline is None else baseline.signal(reward)
    return -(signal * log_q)
