"""Adafactor (Shazeer & Stern 2018) as PyTorch 2.13 defines it: the second moment of a
matrix gradient is kept as row and column means over the last two dimensions, the
relative step size is min(lr, 1/sqrt(t)) scaled by the parameter's RMS, updates are
clipped by their RMS (threshold d), and lr also drives decoupled weight decay."""
import math

from .. import linalg
from .._factories import zeros_like
from .._tensor import Tensor
from .._type_info import finfo
from ..autograd.grad_mode import no_grad
from ._elementwise import zero_step
from .optimizer import Optimizer, to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _state_of(self, p):
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        if p.grad.is_sparse:
            raise RuntimeError("Adafactor does not support sparse gradients")
        state = self.state[p]
        if not state:
            state["step"] = zero_step(p)
            if p.grad.dim() > 1:       # factored: row means (last dim 1), column means
                state["row_var"] = p.grad.new_zeros(p.grad.shape[:-1] + (1,))
                state["col_var"] = p.grad.new_zeros(p.grad.shape[:-2] + (1, p.grad.shape[-1]))
            else:
                state["variance"] = zeros_like(p.grad)
        return state

    def step(self, closure=None):
        loss = self._call_closure(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, self._state_of(p), group)
        return loss

    @staticmethod
    def _update(p, state, group):
        lr, d, weight_decay = to_scalar(group["lr"]), group["d"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = finfo(p.dtype).eps
        grad = -p.grad if group["maximize"] else p.grad
        state["step"] += 1
        t = state["step"].item()
        one_minus_beta2 = t ** group["beta2_decay"]
        rho = min(lr, 1 / t ** 0.5)
        alpha = max(eps2, linalg.vector_norm(p).item() / math.sqrt(p.numel())) * rho
        if weight_decay != 0:
            p.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row, col = state["row_var"], state["col_var"]
            row.lerp_(linalg.vector_norm(grad, dim=-1, keepdim=True).square() / grad.shape[-1],
                      one_minus_beta2)
            col.lerp_(linalg.vector_norm(grad, dim=-2, keepdim=True).square() / grad.shape[-2],
                      one_minus_beta2)
            variance = (row @ col) / row.mean(dim=-2, keepdim=True).clamp(min=eps1)
        else:
            state["variance"].lerp_(grad * grad, one_minus_beta2)
            variance = state["variance"]
        # eps1 squared under the square root keeps its magnitude
        update = variance.clamp(min=eps1 * eps1).rsqrt() * grad
        clip = max(1.0, linalg.vector_norm(update).item() / (math.sqrt(update.numel()) * d))
        p.add_(update, alpha=-alpha / clip)
