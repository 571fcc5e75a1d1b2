"""torch.autograd.functional with create_graph=True: results that stay in the autograd
graph (of the inputs, and of any tensor the function captured), computed with
torchlike.autograd.grad as PyTorch computes them."""
from .._factories import zeros_like
from . import grad as _autograd_grad
from .grad_mode import enable_grad


def prepare(inputs):
    """Fresh tensors that require grad, still attached to inputs that require grad (so
    the results' graphs reach them)."""
    return tuple(x.view_as(x) if x.requires_grad else x.detach().requires_grad_(True)
                 for x in inputs)


def grads(outputs, inputs, grad_outputs):
    """d outputs / d inputs weighted by grad_outputs, with a graph; zeros where an input
    was not used."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    found = (None,) * len(inputs)
    if pairs:
        found = _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                               retain_graph=True, create_graph=True, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(found, inputs))


def vjp(call, inputs, make_v):
    """(outputs, v^T J); call(*inputs) -> tuple of outputs, make_v(outputs) -> v."""
    with enable_grad():
        inputs = prepare(inputs)
        outs = call(*inputs)
        return outs, grads(outs, inputs, make_v(outs))


def jvp(call, inputs, v):
    """(outputs, J v) by the double-backward trick."""
    with enable_grad():
        inputs = prepare(inputs)
        outs = call(*inputs)
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        back = grads(outs, inputs, dummies)
        return outs, grads(back, dummies, v)


def jacobian(call, inputs):
    """J[i][j] (output i, input j), row by row."""
    with enable_grad():
        inputs = prepare(inputs)
        outs = call(*inputs)
        jac = []
        for o in outs:
            flat = o.reshape(-1)
            rows = [grads((flat[k],), inputs, (None,)) for k in range(flat.numel())]
            jac.append(tuple(
                _stack([r[j] for r in rows], x).reshape(tuple(o.shape) + tuple(x.shape))
                for j, x in enumerate(inputs)))
        return tuple(jac)


def _stack(rows, like):
    from .._ops.shape import stack
    return stack(rows) if rows else zeros_like(like).reshape((0,) + tuple(like.shape))


def hessian(scalar_call, inputs):
    """H[i][j] = jacobian of the gradient (with a graph)."""
    def gradient(*xs):
        with enable_grad():
            out = scalar_call(*xs)
            return grads((out,), xs, (None,))
    return jacobian(gradient, inputs)


def hessian_product(scalar_call, inputs, v):
    """(output, v^T H) = (output, H v) for a Hessian that is symmetric."""
    with enable_grad():
        inputs = prepare(inputs)
        out = scalar_call(*inputs)
        first = grads((out,), inputs, (None,))
        return out, grads(first, inputs, v)
