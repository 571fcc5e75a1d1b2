"""Adam's relatives: Adamax (infinity norm), NAdam (Nesterov momentum), RAdam (rectified)."""
import jax.numpy as jnp

from .._factories import tensor, zeros_like
from .optimizer import to_scalar
from ._elementwise import (ElementwiseOptimizer, div_scalar, lerp, negate, rounded,
                           scalar_dtype, stored, zero_step)
from .adam import check_betas

__all__ = ["Adamax", "NAdam", "RAdam"]


def _decay(flags, p, g, weight_decay, decoupled_factor, s):
    """Shared prologue: maximize, then L2 (into the gradient) or decoupled weight decay."""
    decay, decoupled, maximize = flags[:3]
    if maximize:
        g = negate(g)
    if decay:
        if decoupled:
            p = rounded(p * decoupled_factor, s)
        else:
            g = stored(stored(weight_decay) * p + g)
    return p, g


def adamax_update(flags, p, g, states, s):
    """s = (weight_decay, 1 - beta1, beta2, eps, clr); states = (exp_avg, exp_inf)."""
    p, g = _decay(flags, p, g, s[0], None, s)
    exp_avg = stored(lerp(states[0], g, s[1]))
    exp_inf = jnp.maximum(stored(states[1] * s[2]), stored(jnp.abs(g) + stored(s[3])))
    return stored(((-s[4]) * exp_avg) / exp_inf + p), (exp_avg, exp_inf)


def nadam_update(flags, p, g, states, s):
    """s = (weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2,
    bias_correction2, eps, grad coefficient, exp_avg coefficient)."""
    p, g = _decay(flags, p, g, s[0], s[1], s)
    exp_avg = stored(lerp(states[0], g, s[2]))
    exp_avg_sq = stored((s[4] * g) * g + rounded(states[1] * s[3], s))
    denom = stored(stored(jnp.sqrt(stored(div_scalar(exp_avg_sq, s, 5)))) + stored(s[6]))
    p = stored((s[7] * g) / denom + p)
    p = stored((s[8] * exp_avg) / denom + p)
    return p, (exp_avg, exp_avg_sq)


def radam_update(flags, p, g, states, s):
    """s = (weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2, lr,
    bias_correction1, sqrt(bias_correction2), eps, rect), rect = 0 before rectifying."""
    p, g = _decay(flags, p, g, s[0], s[1], s)
    exp_avg = stored(lerp(states[0], g, s[2]))
    exp_avg_sq = stored((s[4] * g) * g + rounded(states[1] * s[3], s))
    update = stored(stored(div_scalar(exp_avg, s, 6)) * s[5])
    # PyTorch's `scalar / tensor` is reciprocal(tensor) * scalar
    adaptive = stored(stored(1 / stored(stored(jnp.sqrt(exp_avg_sq)) + stored(s[8]))) * s[7])
    # rect is 0 exactly on the early, unrectified steps. A traced choice rather than a
    # static flag, so the switch around step 6 doesn't compile the whole group again.
    update = jnp.where(s[9] != 0, stored(stored(update * adaptive) * s[9]), update)
    return stored(p - rounded(update, s)), (exp_avg, exp_avg_sq)


class _AdamLike(ElementwiseOptimizer):
    array_state = ("exp_avg", "exp_avg_sq")
    lerp_weight = 2     # 1 - beta1

    def new_state(self, p, group):
        state = {"step": zero_step(p)}
        state.update((name, zeros_like(p)) for name in self.array_state)
        return state

    def array_names(self, group, state):
        return self.array_state

    def flags(self, group, state):
        return (group["weight_decay"] != 0, bool(group.get("decoupled_weight_decay", False)),
                bool(group["maximize"]))


class Adamax(_AdamLike):
    update = staticmethod(adamax_update)
    array_state = ("exp_avg", "exp_inf")
    lerp_weight = 1     # 1 - beta1
    vector_scalars = True
    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_betas(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def scalars(self, group, state, host):
        beta1, beta2 = group["betas"]
        step = host["step"] + 1
        clr = to_scalar(group["lr"]) / (1 - beta1 ** step)
        return (group["weight_decay"], 1 - beta1, beta2, group["eps"], clr), {"step": step}


class NAdam(_AdamLike):
    update = staticmethod(nadam_update)
    scalar_state = ("step", "mu_product")
    setstate_defaults = (("maximize", False), ("foreach", None), ("capturable", False),
                         ("differentiable", False), ("decoupled_weight_decay", False))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_betas(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def new_state(self, p, group):
        state = {"step": zero_step(p),
                 "mu_product": tensor(1.0, dtype=scalar_dtype(), device=p.device)}
        state.update((name, zeros_like(p)) for name in self.array_state)
        return state

    def scalars(self, group, state, host):
        lr, weight_decay = to_scalar(group["lr"]), group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = host["step"] + 1
        momentum_decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        # mu_product is a 0-dim tensor in PyTorch: `*=` rounds to its dtype
        real = state["mu_product"].dtype.np.type
        mu_product = float(real(host["mu_product"]) * real(mu))
        mu_product_next = mu_product * mu_next
        row = (weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2,
               1 - beta2 ** step, group["eps"], -lr * (1.0 - mu) / (1.0 - mu_product),
               (-lr * mu_next) / (1.0 - mu_product_next))
        return row, {"step": step, "mu_product": mu_product}


class RAdam(_AdamLike):
    update = staticmethod(radam_update)
    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("capturable", False))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_betas(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _rho(self, group, step):
        beta2 = group["betas"][1]
        rho_inf = 2 / (1 - beta2) - 1
        return rho_inf, rho_inf - 2 * step * (beta2 ** step) / (1 - beta2 ** step)

    def scalars(self, group, state, host):
        lr, weight_decay = to_scalar(group["lr"]), group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = host["step"] + 1
        rho_inf, rho_t = self._rho(group, step)
        rect = 0.0
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        row = (weight_decay, 1 - lr * weight_decay, 1 - beta1, beta2, 1 - beta2, lr,
               1 - beta1 ** step, (1 - beta2 ** step) ** 0.5, group["eps"], rect)
        return row, {"step": step}
