"""A custom autograd.Function inside torch.func's transforms.

Reverse mode (grad, vjp, jacrev): a `jax.custom_vjp` whose forward is the Function's
forward (and its setup_context) and whose pullback is the Function's backward, as
PyTorch's functorch runs it. Forward mode (jvp, jacfwd, linearize): a `jax.custom_jvp`
whose rule is the Function's `jvp` staticmethod, reading what setup_context saved with
`ctx.save_for_forward` (a straight-through estimator's jvp is not the derivative of its
forward: JAX's own differentiation of the forward gave other numbers). Both modes at
once (hessian: jacfwd of jacrev) differentiate the forward itself, which agrees with
PyTorch's wherever backward and jvp are the forward's derivatives.

As PyTorch's, a Function must define forward without ctx and a separate setup_context
to run inside torch.func's transforms, must allow vmap (`generate_vmap_rule = True` or
a vmap staticmethod) under vmap and jacfwd (PyTorch's jacfwd is vmap over jvp), and
must define jvp under forward mode; otherwise PyTorch's errors. Inside
torch.autograd.functional, which PyTorch runs on eager autograd (jvp and hvp by double
backward), forward(ctx, ...) works too and nothing else is required; the one
difference: its jacobian(strategy="forward-mode") differentiates the forward, where
PyTorch's calls jvp (and raises without one).
"""
import jax
import jax.numpy as jnp

NEEDS_SETUP_CONTEXT = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
    "jacrev, ...), it must override the setup_context staticmethod. For more details, "
    "please see https://pytorch.org/docs/main/notes/extending.func.html")


NO_VMAP = ("You tried to vmap over {}, but it does not have vmap support. Please override "
           "and implement the vmap staticmethod or set generate_vmap_rule=True. For more "
           "details, please see https://pytorch.org/docs/main/notes/extending.func.html")
NO_JVP = ("You must implement the jvp function for custom autograd.Function to use it "
          "with forward mode AD.")


def mode(cls, args):
    """How Function `cls` applies to `args` now: None (eagerly, as outside transforms),
    "reverse" or "forward" (inside transforms of that mode only: torch.func's, or
    forward_ad's dual level). Raises PyTorch's error where the transforms running need
    what the Function does not define."""
    from .. import _jax_bridge as bridge
    from .function import Function
    state = bridge.state
    if bridge.top_level():
        return None
    scopes = state.transform_scopes
    if state.dual_level is not None and not (scopes or state.batching or state.forward):
        # forward_ad (eager autograd in PyTorch: forward(ctx, ...) works): jvp is the
        # rule where an input is a dual tensor
        from .._tensor import Tensor
        if not any(isinstance(a, Tensor) and state.dual_level.owns(a._raw()) for a in args):
            return None
        if cls.jvp is Function.jvp:
            raise NotImplementedError(NO_JVP)
        return "forward"
    if scopes and not scopes[-1][1]:
        # autograd.functional's, which PyTorch runs on eager autograd: its jvp and hvp
        # by double backward, so nothing is required (here the forward is differentiated)
        return None if state.forward else "reverse"
    if not (state.forward or state.batching or scopes):
        return None         # (torchlike.compile's trace, jax.jit)
    if cls._custom_op_node and (state.forward or not scopes):
        # a library.custom_op: vmap and forward mode run its kernel (under reverse mode
        # PyTorch's raises as a Function without setup_context does)
        return None
    if cls.setup_context is Function.setup_context:         # (forward(ctx, ...))
        raise RuntimeError(NEEDS_SETUP_CONTEXT)
    if state.batching and not cls.generate_vmap_rule and cls.vmap is Function.vmap:
        raise RuntimeError(NO_VMAP.format(cls.__name__))
    if state.forward and cls.jvp is Function.jvp:
        raise NotImplementedError(NO_JVP)
    if state.forward:       # (reverse mode inside it too: the forward differentiated)
        return None if len(scopes) > state.forward_scopes else "forward"
    return "reverse" if scopes else None


def _differentiable_slots(args):
    """Positions of the floating tensors among `args` (others enter as they are)."""
    from .._tensor import Tensor
    return [i for i, a in enumerate(args) if isinstance(a, Tensor)
            and (a.is_floating_point() or a.is_complex())]


def _forward_runner(cls, args, kwargs, slots, device, made, with_ctx=False):
    """run(arrays) -> (ctx, inputs, output, output arrays): the Function's forward on
    `args` with the tensors at `slots` made of `arrays`."""
    from .. import _jax_bridge as bridge

    def run(arrays):
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
    return run


def apply_forward_mode(cls, args, kwargs):
    """The Function under jvp/jacfwd/linearize or forward_ad: its forward, with its jvp
    as the rule."""
    from .. import _jax_bridge as bridge
    from .._ops.registry import fill_cotangents
    from .function import Function, _with_versions
    with_ctx = cls.setup_context is Function.setup_context    # (forward_ad allows it)
    slots = _differentiable_slots(args)
    device = args[slots[0]].device if slots else None
    made = {}
    run_forward = _forward_runner(cls, args, kwargs, slots, device, made, with_ctx)

    @jax.custom_jvp
    def function(*arrays):
        return run_forward(arrays)[3]

    def rule(primals, tangents):
        ctx, inputs, out, out_arrays = run_forward(primals)
        if not with_ctx:
            cls.setup_context(ctx, tuple(inputs), out)
        # jvp's ctx.saved_tensors are those saved for forward (none unless saved)
        ctx._saved = _with_versions(ctx.saved_for_forward or ())
        ctx.packed = None       # (not saved_tensors_hooks' packing of the backward's)
        grad_inputs = [None] * len(args)         # (an input without a tangent: None)
        for i, t in zip(slots, tangents):
            if not isinstance(t, jax.custom_derivatives.SymbolicZero):
                grad_inputs[i] = bridge.wrap(t, device)
        result = cls.jvp(ctx, *grad_inputs)
        result = result if isinstance(result, tuple) else (result,)
        # (float0 for an integer output, zeros for None, each in its output's dtype)
        return out_arrays, fill_cotangents(out_arrays, [None if t is None else t.jax()
                                                        for t in result])

    function.defjvp(rule, symbolic_zeros=True)
    outs = [bridge.wrap(o, device) for o in function(*[args[i].jax() for i in slots])]
    if bridge.state.on_traced_outputs is not None:      # (forward_ad's duals)
        bridge.state.on_traced_outputs(outs)
    return outs[0] if made["single"] else tuple(outs)


def apply_in_transform(cls, args, kwargs):
    from .. import _jax_bridge as bridge
    from .function import Function
    with_ctx = cls.setup_context is Function.setup_context    # (forward(ctx, ...))
    slots = _differentiable_slots(args)
    device = args[slots[0]].device if slots else None
    made = {}           # this call's ctx and output structure, from the forward's trace
    run_forward = _forward_runner(cls, args, kwargs, slots, device, made, with_ctx)

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
