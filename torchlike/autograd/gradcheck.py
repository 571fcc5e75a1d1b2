"""gradcheck / gradgradcheck: autograd's gradients against central finite differences.

Real inputs and outputs (double precision recommended, as in PyTorch); the slow mode's
full Jacobians are compared and a mismatch is reported in PyTorch's words."""
import warnings


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_tensor(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def _check_inputs(inputs):
    found = False
    for idx, inp in enumerate(inputs):
        if _is_tensor(inp) and inp.requires_grad:
            if inp.dtype.name not in ("float64", "complex128"):
                warnings.warn(f"Input #{idx} requires gradient and is not a double precision "
                              "floating point or complex. This check will likely fail if all "
                              "the inputs are not of double precision floating point or "
                              "complex. ", stacklevel=3)
            if not all(st > 0 or sz <= 1 for st, sz in zip(inp.stride(), inp.shape)):
                raise RuntimeError(
                    f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                    "inputs that are non-overlapping to be able to compute the numerical "
                    "gradients correctly. You should call .contiguous on the input before "
                    "passing it to gradcheck.")
            found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")


def _differentiable_outputs(x):
    return tuple(o for o in _as_tuple(x) if _is_tensor(o) and o.requires_grad)


def _numerical_jacobians(func, inputs, diff_idx, n_outputs, eps):
    """J[j][o]: (numel of input j, numel of output o), by central differences."""
    from .. import zeros
    jac = []
    # (with grad mode as it is: the function may itself differentiate, as gradgradcheck's
    # does; the inputs are perturbed through detached aliases)
    if True:
        for j in diff_idx:
            x = inputs[j]
            flat = x.detach().reshape(-1)           # writes go to x's storage
            outs = [o for o in _as_tuple(func(*inputs)) if _is_tensor(o)][:n_outputs]
            cols = [zeros(x.numel(), o.numel(), dtype=o.dtype) for o in outs]
            for k in range(x.numel()):
                orig = flat[k].item()
                flat[k] = orig - eps
                minus = [o.detach().reshape(-1).clone() for o in _outputs(func, inputs, n_outputs)]
                flat[k] = orig + eps
                plus = [o.detach().reshape(-1).clone() for o in _outputs(func, inputs, n_outputs)]
                flat[k] = orig
                for col, p, m in zip(cols, plus, minus):
                    col[k] = (p - m) / (2 * eps)
            jac.append(cols)
    return jac


def _outputs(func, inputs, n):
    return [o for o in _as_tuple(func(*inputs)) if _is_tensor(o)][:n]


def _analytical_jacobians(outputs, inputs, diff_idx):
    """J[j][o] from one backward per output element."""
    from .. import zeros, zeros_like
    from . import grad
    jac = [[zeros(inputs[j].numel(), o.numel(), dtype=o.dtype) for o in outputs]
           for j in diff_idx]
    targets = [inputs[j] for j in diff_idx]
    for oi, out in enumerate(outputs):
        for m in range(out.numel()):
            onehot = zeros_like(out).reshape(-1)
            onehot[m] = 1
            grads = grad(out, targets, onehot.reshape(out.shape), retain_graph=True,
                         allow_unused=True)
            for jj, g in enumerate(grads):
                if g is not None:
                    jac[jj][oi][:, m] = g.detach().reshape(-1).to(out.dtype)
    return jac


def _check_jacobians(func, inputs, eps, atol, rtol):
    from .. import allclose
    diff_idx = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    n_outputs = len(_differentiable_outputs(func(*inputs)))
    numerical = _numerical_jacobians(func, inputs, diff_idx, n_outputs, eps)
    outputs = _differentiable_outputs(func(*inputs))      # (recorded after the writes)
    analytical = _analytical_jacobians(outputs, inputs, diff_idx)
    for jj, j in enumerate(diff_idx):
        for oi in range(len(outputs)):
            a, n = analytical[jj][oi], numerical[jj][oi]
            if not allclose(a, n, rtol, atol):
                raise GradcheckError(f"Jacobian mismatch for output {oi:d} with respect to input "
                                     f"{j:d},\nnumerical:{n}\nanalytical:{a}\n")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when autograd's Jacobian of func at inputs matches finite differences."""
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    try:
        _check_jacobians(func, inputs, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the vector-Jacobian product of func (second derivatives)."""
    from .. import ones_like
    from . import grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        # deterministic stand-ins for PyTorch's random grad_outputs
        outputs = _differentiable_outputs(func(*inputs))
        grad_outputs = tuple((ones_like(o) * 0.5).detach().requires_grad_() for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]

    def vjp(*args):
        outs = _differentiable_outputs(func(*args[:n_in]))
        grads = grad(outs, [args[i] for i in diff_idx], args[n_in:], create_graph=True,
                      allow_unused=True)
        return tuple(g for g in grads if g is not None)
    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
