"""A custom autograd.Function inside torch.func's reverse-mode transforms (grad, vjp,
jacrev, hessian): a `jax.custom_vjp` whose forward is the Function's forward (and its
setup_context) and whose pullback is the Function's backward, as PyTorch's functorch
runs it. Its forward ran under no_grad there before, which gave zero gradients.

As PyTorch's, a Function must define forward without ctx and a separate setup_context
to run inside torch.func's transforms (otherwise: PyTorch's error); inside
torch.autograd.functional, which PyTorch runs on eager autograd, forward(ctx, ...) works
too.
"""
import jax
import jax.numpy as jnp

NEEDS_SETUP_CONTEXT = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
    "jacrev, ...), it must override the setup_context staticmethod. For more details, "
    "please see https://pytorch.org/docs/main/notes/extending.func.html")


def applies():
    """Whether Function.apply runs inside a reverse-mode torch.func transform now."""
    from .. import _jax_bridge as bridge
    return bool(bridge.state.transform_scopes) and not bridge.state.forward and \
        not bridge.top_level()


def apply_in_transform(cls, args, kwargs):
    from .. import _jax_bridge as bridge
    from .._tensor import Tensor
    from .function import Function
    with_ctx = cls.setup_context is Function.setup_context    # (forward(ctx, ...))
    if with_ctx and bridge.state.transform_scopes[-1][1]:      # (torch.func's)
        raise RuntimeError(NEEDS_SETUP_CONTEXT)
    # the differentiable inputs: floating tensors (others enter as they are)
    slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)
             and (a.is_floating_point() or a.is_complex())]
    device = args[slots[0]].device if slots else None
    made = {}           # this call's ctx and output structure, from the forward's trace

    def run_forward(arrays):
        inputs = list(args)
        for i, a in zip(slots, arrays):
            inputs[i] = bridge.wrap(a, device)
        ctx = cls._backward_cls(cls, ())
        ctx.needs_input_grad = tuple(i in slots for i in range(len(args)))
        out = cls.forward(ctx, *inputs, **kwargs) if with_ctx else \
            cls.forward(*inputs, **kwargs)
        single = not isinstance(out, tuple)
        made["single"] = single
        return ctx, inputs, out, tuple(o.jax() for o in ((out,) if single else out))

    @jax.custom_vjp
    def function(*arrays):
        return run_forward(arrays)[3]

    def forward(*arrays):
        ctx, inputs, out, out_arrays = run_forward(arrays)
        if not with_ctx:
            cls.setup_context(ctx, tuple(inputs), out)
        made["ctx"] = ctx
        saved = tuple(None if t is None else t.jax() for t in ctx.to_save)
        return out_arrays, (saved, arrays)

    def backward(residuals, cotangents):
        saved, arrays = residuals
        ctx = made["ctx"]
        ctx._saved = tuple(None if a is None else (bridge.wrap(a, device), 0) for a in saved)
        grads = cls.backward(ctx, *[bridge.wrap(c, device) for c in cotangents])
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(jnp.zeros_like(arrays[k]) if grads[i] is None else grads[i].jax()
                     for k, i in enumerate(slots))

    function.defvjp(forward, backward)
    outs = [bridge.wrap(o, device) for o in function(*[args[i].jax() for i in slots])]
    return outs[0] if made["single"] else tuple(outs)
