"""RMSprop (optionally centered, with momentum) and Adagrad."""
import jax.numpy as jnp

from .._factories import full_like, zeros_like
from .._tensor import Tensor
from .optimizer import check_fused, to_scalar
from ._elementwise import ElementwiseOptimizer, lerp, negate, rounded, stored, zero_step

__all__ = ["RMSprop", "Adagrad"]


def rmsprop_update(flags, p, g, states, s):
    """s = (lr, weight_decay, alpha, 1 - alpha, eps, momentum);
    states = (square_avg[, momentum_buffer][, grad_avg])."""
    decay, centered, use_momentum, maximize = flags
    lr, weight_decay, alpha, one_minus_alpha, eps, momentum = (s[i] for i in range(6))
    if maximize:
        g = negate(g)
    if decay:
        g = stored(stored(weight_decay) * p + g)
    # (`stored` marks where each of PyTorch's kernels writes its result)
    square_avg = stored((one_minus_alpha * g) * g + rounded(states[0] * alpha, s))
    new_states = [square_avg]
    if use_momentum:
        new_states.append(None)            # filled below, keeps the state order
    if centered:
        grad_avg = stored(lerp(states[-1], g, one_minus_alpha))
        new_states.append(grad_avg)
        avg = jnp.sqrt(stored(-grad_avg * grad_avg + square_avg))
    else:
        avg = jnp.sqrt(square_avg)
    avg = stored(stored(avg) + stored(eps))
    if use_momentum:
        buf = stored(rounded(states[1] * momentum, s) + g / avg)
        new_states[1] = buf
        p = stored(stored(-lr) * buf + p)
    else:
        p = stored(((-lr) * g) / avg + p)
    return p, tuple(new_states)


def adagrad_update(flags, p, g, states, s):
    """s = (clr, weight_decay, eps) with clr = lr / (1 + (step - 1) * lr_decay)."""
    decay, maximize = flags
    clr, weight_decay, eps = s[0], s[1], s[2]
    if maximize:
        g = negate(g)
    if decay:
        g = stored(stored(weight_decay) * p + g)
    total = stored(g * g + states[0])
    std = stored(stored(jnp.sqrt(total)) + stored(eps))
    return stored(((-clr) * g) / std + p), (total,)


def _check(name, value, low=0.0):
    if not low <= value:
        raise ValueError(f"Invalid {name}: {value}")


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check("learning rate", lr)


class RMSprop(ElementwiseOptimizer):
    update = staticmethod(rmsprop_update)
    lerp_weight = 3     # 1 - alpha (centered)
    vector_scalars = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check("epsilon value", eps)
        _check("momentum value", momentum)
        _check("weight_decay value", weight_decay)
        _check("alpha value", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    setstate_defaults = (("momentum", 0), ("centered", False), ("foreach", None),
                         ("maximize", False), ("differentiable", False), ("capturable", False))

    def new_state(self, p, group):
        state = {"step": zero_step(p), "square_avg": zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)
        return state

    def array_names(self, group, state):
        names = ("square_avg",)
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def flags(self, group, state):
        return (group["weight_decay"] != 0, bool(group["centered"]), group["momentum"] > 0,
                bool(group["maximize"]))

    def scalars(self, group, state, host):
        alpha = group["alpha"]
        row = (to_scalar(group["lr"]), group["weight_decay"], alpha, 1 - alpha, group["eps"],
               group["momentum"])
        return row, {"step": host["step"] + 1}


class Adagrad(ElementwiseOptimizer):
    update = staticmethod(adagrad_update)
    vector_scalars = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check("lr_decay value", lr_decay)
        _check("weight_decay value", weight_decay)
        _check("initial_accumulator_value value", initial_accumulator_value)
        _check("epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        # unlike the others, Adagrad creates its state up front
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(self.new_state(p, group))

    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("fused", None))

    def new_state(self, p, group):
        init = group["initial_accumulator_value"]
        if p.is_complex():
            init = complex(init, init)
        return {"step": zero_step(p), "sum": full_like(p, init)}

    def array_names(self, group, state):
        return ("sum",)

    def flags(self, group, state):
        return (group["weight_decay"] != 0, bool(group["maximize"]))

    def scalars(self, group, state, host):
        step = host["step"] + 1
        lr = to_scalar(group["lr"])
        clr = lr / (1 + (step - 1) * group["lr_decay"])
        return (clr, group["weight_decay"], group["eps"]), {"step": step}
