"""Adam and AdamW (Adam with decoupled weight decay)."""
import jax.numpy as jnp

from .._tensor import Tensor
from .._factories import zeros_like
from .optimizer import check_fused, to_scalar
from ._elementwise import (ElementwiseOptimizer, div_scalar, lerp, negate, rounded,
                           stored, zero_step)

__all__ = ["Adam", "AdamW"]


def adam_update(flags, p, g, states, s):
    """s = (lr, weight_decay, 1 - beta1, beta2, 1 - beta2, step_size, sqrt(bias_correction2),
    eps, 1 - lr * weight_decay); states = (exp_avg, exp_avg_sq[, max_exp_avg_sq])."""
    decay, decoupled, amsgrad, maximize = flags
    weight_decay, one_minus_beta1, beta2, one_minus_beta2 = s[1], s[2], s[3], s[4]
    step_size, eps, decoupled_factor = s[5], s[7], s[8]
    if maximize:
        g = negate(g)
    if decay:
        if decoupled:
            p = rounded(p * decoupled_factor, s)
        else:
            g = stored(stored(weight_decay) * p + g)
    # (`stored` marks where each of PyTorch's kernels writes its result)
    exp_avg = stored(lerp(states[0], g, one_minus_beta1))
    exp_avg_sq = stored((one_minus_beta2 * g) * g + rounded(states[1] * beta2, s))
    new_states = (exp_avg, exp_avg_sq)
    second = exp_avg_sq
    if amsgrad:
        second = jnp.maximum(states[2], exp_avg_sq)
        new_states += (second,)
    denom = stored(stored(div_scalar(stored(jnp.sqrt(second)), s, 6)) + stored(eps))
    return stored(p + ((-step_size) * exp_avg) / denom), new_states


def check_betas(lr, eps, betas, weight_decay):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(ElementwiseOptimizer):
    update = staticmethod(adam_update)
    lerp_weight = 2     # 1 - beta1
    vector_scalars = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_betas(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    setstate_defaults = (("amsgrad", False), ("maximize", False), ("foreach", None),
                         ("capturable", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("fused", None))

    def new_state(self, p, group):
        state = {"step": zero_step(p), "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def array_names(self, group, state):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if group["amsgrad"] else names

    def flags(self, group, state):
        return (group["weight_decay"] != 0, bool(group["decoupled_weight_decay"]),
                bool(group["amsgrad"]), bool(group["maximize"]))

    def scalars(self, group, state, host):
        lr, weight_decay = to_scalar(group["lr"]), to_scalar(group["weight_decay"])
        beta1, beta2 = (to_scalar(b) for b in group["betas"])
        step = host["step"] + 1
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        row = (lr, weight_decay, 1 - beta1, beta2, 1 - beta2, lr / bias_correction1,
               bias_correction2 ** 0.5, group["eps"], 1 - lr * weight_decay)
        return row, {"step": step}


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
