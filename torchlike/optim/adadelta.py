"""Adadelta: steps scaled by the ratio of running RMS of updates to running RMS of
gradients (Zeiler 2012), with PyTorch's order of operations."""
from .._factories import zeros_like
from ._checks import check_lr, check_weight_decay
from ._elementwise import ElementwiseOptimizer, negate, rounded, stored, zero_step
from .optimizer import to_scalar

__all__ = ["Adadelta"]


def adadelta_update(flags, p, g, states, s):
    """s = (lr, weight_decay, rho, 1 - rho, eps); states = (square_avg, acc_delta)."""
    decay, maximize = flags
    lr, weight_decay, rho, one_minus_rho, eps = s[0], s[1], s[2], s[3], s[4]
    if maximize:
        g = negate(g)
    if decay:
        g = stored(stored(weight_decay) * p + g)
    # (`stored` marks where each of PyTorch's kernels writes its result)
    square_avg = stored((one_minus_rho * g) * g + rounded(states[0] * rho, s))
    std = stored(stored(square_avg + stored(eps)) ** 0.5)
    delta = stored(stored(states[1] + stored(eps)) ** 0.5)
    delta = stored(stored(delta / std) * g)
    acc_delta = stored((one_minus_rho * delta) * delta + rounded(states[1] * rho, s))
    return stored(stored(-lr) * delta + p), (square_avg, acc_delta)


class Adadelta(ElementwiseOptimizer):
    update = staticmethod(adadelta_update)
    vector_scalars = True
    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False))

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_weight_decay(weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def new_state(self, p, group):
        return {"step": zero_step(p), "square_avg": zeros_like(p), "acc_delta": zeros_like(p)}

    def array_names(self, group, state):
        return ("square_avg", "acc_delta")

    def flags(self, group, state):
        return (group["weight_decay"] != 0, bool(group["maximize"]))

    def scalars(self, group, state, host):
        rho = group["rho"]
        return ((to_scalar(group["lr"]), group["weight_decay"], rho, 1 - rho, group["eps"]),
                {"step": host["step"] + 1})
