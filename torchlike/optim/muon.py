"""Muon as PyTorch 2.13 defines it: SGD momentum (Nesterov by default) on 2-D parameters
whose update is orthogonalized by a quintic Newton-Schulz iteration run in bfloat16, with
decoupled weight decay and a shape-dependent learning-rate scale."""
import math

from .. import _dtype
from .._factories import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, to_scalar

__all__ = ["Muon"]

_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def _orthogonalize(update, coefficients, steps, eps):
    """Newton-Schulz iteration towards U V^T of update = U S V^T (in bfloat16)."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if update.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    wide = update.shape[0] > update.shape[1]
    bf16, f32 = _dtype.bfloat16, _dtype.float32
    x = update.to(bf16)
    x = x.T if wide else x                  # iterate on the side with fewer rows
    x = x / x.norm().clamp(min=eps)
    # Each product accumulates in float32 and is rounded to bfloat16 once, as PyTorch's
    # bfloat16 mm/addmm do; rounding the intermediate terms too makes the iteration,
    # which amplifies rounding, several times less accurate.
    for _ in range(steps):
        x32 = x.to(f32)
        gram = (x32 @ x32.T).to(bf16).to(f32)
        poly = gram.addmm(gram, gram, beta=b, alpha=c).to(bf16).to(f32)
        x = x32.addmm(poly, x32, beta=a).to(bf16)
    return x.T if wide else x


def _lr_scale(adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        return math.sqrt(max(1, rows / cols))
    return 0.2 * math.sqrt(max(rows, cols))        # "match_rms_adamw"


class Muon(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=_NS_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure=None):
        loss = self._call_closure(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, group)
        return loss

    def _update(self, p, group):
        if p.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        if p.grad.is_sparse:
            raise RuntimeError("Muon does not support sparse gradients")
        grad, momentum, lr = p.grad, group["momentum"], to_scalar(group["lr"])
        buf = self.state[p].setdefault("momentum_buffer", zeros_like(grad))
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if group["nesterov"] else buf
        update = _orthogonalize(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        p.mul_(1 - lr * group["weight_decay"])
        p.add_(update, alpha=-lr * _lr_scale(group["adjust_lr_fn"], p.shape))
