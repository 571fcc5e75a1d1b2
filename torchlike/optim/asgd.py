"""ASGD: SGD with decaying step eta and a running average `ax` of the iterates (started
once the step count passes t0), with PyTorch's eta and mu schedules."""
from .._factories import tensor, zeros_like
from ._checks import check_lr, check_weight_decay
from ._elementwise import (ElementwiseOptimizer, negate, rounded, scalar_dtype, stored,
                           zero_step)
from .optimizer import to_scalar

__all__ = ["ASGD"]


def asgd_update(flags, p, g, states, s):
    """s = (weight_decay, 1 - lambd * eta, eta, mu); states = (ax,)."""
    decay, averaging, maximize = flags
    weight_decay, shrink, eta, mu = s[0], s[1], s[2], s[3]
    if maximize:
        g = negate(g)
    if decay:
        g = stored(stored(weight_decay) * p + g)
    p = rounded(p * shrink, s)
    p = stored(stored(-eta) * g + p)
    ax = stored(states[0] + rounded(stored(p - states[0]) * mu, s)) if averaging else p
    return p, (ax,)


class ASGD(ElementwiseOptimizer):
    update = staticmethod(asgd_update)
    scalar_state = ("step", "eta", "mu")
    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False))

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_weight_decay(weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def new_state(self, p, group):
        return {"step": zero_step(p),
                "eta": tensor(to_scalar(group["lr"]), dtype=scalar_dtype(), device=p.device),
                "mu": tensor(1.0, dtype=scalar_dtype(), device=p.device),
                "ax": zeros_like(p)}

    def array_names(self, group, state):
        return ("ax",)

    def flags(self, group, state):
        # PyTorch copies the iterate into ax while mu is exactly 1
        return (group["weight_decay"] != 0, self.read_scalar(state["mu"]) != 1,
                bool(group["maximize"]))

    def scalars(self, group, state, host):
        lr, lambd = to_scalar(group["lr"]), group["lambd"]
        step, eta = host["step"] + 1, host["eta"]
        row = (group["weight_decay"], 1 - lambd * eta, eta, host["mu"])
        new_eta = lr / ((1 + lambd * lr * step) ** group["alpha"])
        new_mu = 1 / max(1, step - group["t0"])
        return row, {"step": step, "eta": new_eta, "mu": new_mu}
