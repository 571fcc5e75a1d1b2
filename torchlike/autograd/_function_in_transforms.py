"""A custom autograd.Function inside torch.func's transforms.

Reverse mode (grad, vjp, jacrev): a `jax.custom_vjp` whose forward is the Function's
forward (and its setup_context) and whose pullback is the Function's backward, as
PyTorch's functorch runs it. Forward mode (jvp, jacfwd, linearize): a `jax.custom_jvp`
whose rule is the Function's `jvp` staticmethod, reading what setup_context saved with
`ctx.save_for_forward` (a straight-through estimator's jvp is not the derivative of its
forward: JAX's own differentiation of the forward gave other numbers). Under vmap, its
own vmap staticmethod runs one level down on the batched values (`apply_batched`), or
with generate_vmap_rule its forward runs batched. JAX runs a custom rule's forward one
level out; where that level sees an input (an outer vmap, grad of grad) the Function
applies again there, as PyTorch applies it at each level, so a forward that leaves JAX
(numpy) never sees a tracer. Both modes at once (hessian: jacfwd of jacrev)
differentiate the forward itself (JAX has no forward mode through a custom_vjp), which
agrees with PyTorch's wherever backward and jvp are the forward's derivatives.

As PyTorch's, a Function must define forward without ctx and a separate setup_context
to run inside torch.func's transforms, must allow vmap (`generate_vmap_rule = True` or
a vmap staticmethod) under vmap and jacfwd (PyTorch's jacfwd is vmap over jvp), and
must define jvp under forward mode; otherwise PyTorch's errors. Inside
torch.autograd.functional, which PyTorch runs on eager autograd (jvp and hvp by double
backward), forward(ctx, ...) works too and nothing else is required, except jvp for its
jacobian(strategy="forward-mode"), which PyTorch runs on forward AD.
"""
import collections
import copy

import jax
import jax.numpy as jnp
from jax._src import core as _jax_core
from jax._src.interpreters.ad import JVPTrace, LinearizeTrace
from jax._src.interpreters.batching import BatchTrace, BatchTracer

NEEDS_SETUP_CONTEXT = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
    "jacrev, ...), it must override the setup_context staticmethod. For more details, "
    "please see https://pytorch.org/docs/main/notes/extending.func.html")


NO_VMAP = ("You tried to vmap over {}, but it does not have vmap support. Please override "
           "and implement the vmap staticmethod or set generate_vmap_rule=True. For more "
           "details, please see https://pytorch.org/docs/main/notes/extending.func.html")
BOTH_VMAP_RULES = (
    "You tried to vmap over {}, but it has both generate_vmap_rule=True and an overridden "
    "vmap staticmethod. Please set generate_vmap_rule=False or delete the overridden vmap "
    "staticmethod to avoid ambiguity. For more details, please see "
    "https://pytorch.org/docs/main/notes/extending.func.html")
VMAP_RETURNS = ("Expected the vmap staticmethod to have two returns, an output and out_dims "
                "with pytree structure compatible with the output. ")
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
        # by double backward, so nothing is required (here the forward is differentiated);
        # its forward-mode jacobian on forward AD, which calls the Function's jvp
        if state.forward and state.functional_forward:
            if cls.jvp is Function.jvp:
                raise NotImplementedError(NO_JVP)
            return "forward"
        return None if state.forward else "reverse"
    own_vmap = cls.vmap is not Function.vmap
    # a vmap level where an input is batched: torch.func.vmap's, or the one jacrev runs
    # the backward under (PyTorch's jacrev is vmap of vjp)
    batched = _vmaps_itself(cls) and vmap_level(args) is not None
    if not (state.forward or state.batching or scopes or batched):
        return None         # (torchlike.compile's trace, jax.jit)
    if cls._custom_op_node and (state.forward or not scopes):
        # a library.custom_op under vmap (its rule, or the kernel per sample) or forward
        # mode (zero tangents), as PyTorch's (under reverse mode PyTorch's raises as a
        # Function without setup_context does)
        return "vmap" if batched else "forward" if state.forward else None
    if cls.setup_context is Function.setup_context:         # (forward(ctx, ...))
        raise RuntimeError(NEEDS_SETUP_CONTEXT)
    if state.batching and cls.generate_vmap_rule and own_vmap:
        raise RuntimeError(BOTH_VMAP_RULES.format(cls.__name__))
    if state.batching and not cls.generate_vmap_rule and not own_vmap:
        raise RuntimeError(NO_VMAP.format(cls.__name__))
    if batched:
        return "vmap"
    if state.forward and cls.jvp is Function.jvp:
        raise NotImplementedError(NO_JVP)
    if state.forward:       # (reverse mode inside it too: the forward differentiated)
        return None if len(scopes) > state.forward_scopes else "forward"
    return "reverse" if scopes else None


# the traces of JAX's transform levels (grad, jvp, vmap; not a jit's trace)
_LEVELS = (JVPTrace, LinearizeTrace, BatchTrace)
VmapInfo = collections.namedtuple("VmapInfo", ("batch_size", "randomness"))


def _vmaps_itself(cls):
    """Whether Function `cls` batches by its own vmap staticmethod (not the generated
    rule)."""
    from .function import Function
    return cls.vmap is not Function.vmap and not cls.generate_vmap_rule


def _level_sees(args):
    """Whether the current trace is a transform level (grad, jvp, vmap; not a jit's
    trace) and a tensor of `args` holds one of its tracers."""
    from .._tensor import Tensor
    trace = _jax_core.trace_ctx.trace
    if type(trace) not in _LEVELS:
        return False
    for a in args:
        if isinstance(a, Tensor):
            owner = getattr(a.jax(), "_trace", None)
            if owner is not None and owner.tag is trace.tag:
                return True
    return False


def vmap_level(args):
    """The vmap level JAX runs now (its BatchTrace) where a tensor of `args` is batched,
    else None: where a Function's own vmap staticmethod applies."""
    trace = _jax_core.trace_ctx.trace
    return trace if type(trace) is BatchTrace and _level_sees(args) else None


def apply_batched(cls, args, kwargs, trace):
    """The Function at vmap level `trace` with its own vmap staticmethod, as PyTorch
    runs it: the staticmethod is called one level down, on the batched values with their
    batch dimension (`in_dims`, None for an input not batched), and says where each of
    its outputs has it (`out_dims`, an int or None for all, or a structure like the
    output's)."""
    from .. import _jax_bridge as bridge
    from .._func_vmap import _Mismatch, _dims_per_leaf, _spec
    from .._tensor import Tensor
    if any(isinstance(v, Tensor) for v in jax.tree_util.tree_leaves(kwargs)):
        raise NotImplementedError(
            "Run vmap on autograd.Function with kwarg-only Tensor args. Please do not pass "
            f"kwarg-only Tensors to autograd.Function. Got: {kwargs}")
    unwrapped, in_dims, given = [], [], {}
    for a in args:
        dim = None
        if isinstance(a, Tensor):
            value, dim = trace.to_batch_info(a.jax())
            t = bridge.wrap(value, a.device)
            given[id(t)] = a
            a = t
        unwrapped.append(a)
        in_dims.append(dim)
    # (a vmap inside jacrev or jacfwd: PyTorch's default randomness, "error")
    randomness = next((r for tag, r in bridge.state.vmap_levels if tag is trace.tag), "error")
    info = VmapInfo(trace.axis_data.size, randomness)
    state = bridge.state
    lowered = 1 if state.batching else 0        # (the staticmethod runs below this vmap)
    state.batching -= lowered
    try:
        with _jax_core.set_current_trace(trace.parent_trace):
            result = cls.vmap(info, tuple(in_dims), *unwrapped, **kwargs)
    finally:
        state.batching += lowered
    if not isinstance(result, tuple):
        kind = "<class 'torch.Tensor'>" if isinstance(result, Tensor) else type(result)
        raise RuntimeError(VMAP_RETURNS + f"Got a {kind} instead")
    if len(result) != 2:
        raise RuntimeError(VMAP_RETURNS + f"Got {len(result)} returns instead")
    output, out_dims = result
    leaves, tree = jax.tree_util.tree_flatten(output, is_leaf=_tensor_or_none)
    dims = []
    try:
        _dims_per_leaf(out_dims, output, dims)
    except _Mismatch:
        raise RuntimeError(
            "The autograd.Function's vmap staticmethod returned an incompatible (output, "
            f"out_dims) tuple. Expected out_dims={out_dims} to be compatible with the "
            f"structure of `output`. out_dims has structure {_spec(out_dims)} but output has "
            f"structure {_spec(output)}. For more details, please see "
            "https://pytorch.org/docs/main/notes/extending.func.html") from None
    batched = []
    for leaf, dim in zip(leaves, dims):
        if isinstance(leaf, Tensor) and id(leaf) in given:
            leaf = given[id(leaf)]          # an input returned: the caller's own tensor
        elif isinstance(leaf, Tensor) and dim is not None:
            leaf = bridge.wrap(BatchTracer(trace, leaf.jax(), dim % leaf.dim()), leaf.device)
        batched.append(leaf)
    return jax.tree_util.tree_unflatten(tree, batched)


def _tensor_or_none(x):
    from .._tensor import Tensor
    return x is None or isinstance(x, Tensor)


def _differentiable_slots(args):
    """Positions of the floating tensors among `args` (others enter as they are)."""
    from .._tensor import Tensor
    return [i for i, a in enumerate(args) if isinstance(a, Tensor)
            and (a.is_floating_point() or a.is_complex())]


def _apply_outside(cls, inputs, kwargs, reverse):
    """The Function's forward where JAX runs a custom rule's forward: one level out, at
    a level that sees an input. PyTorch applies the Function at each level, so there it
    applies again: at a vmap, its own vmap staticmethod; inside the forward of a reverse
    rule at another reverse level (jacrev of jacrev), its backward again. (Elsewhere the
    forward runs as it is, None here: batched by the generated vmap rule, or
    differentiated.)"""
    if type(_jax_core.trace_ctx.trace) is BatchTrace:
        if _vmaps_itself(cls):
            return apply_batched(cls, inputs, kwargs, _jax_core.trace_ctx.trace)
    elif reverse and mode(cls, inputs) == "reverse":
        return apply_in_transform(cls, inputs, kwargs)
    return None


def _forward_runner(cls, args, kwargs, slots, device, made, with_ctx=False, reverse=False):
    """run(arrays) -> (ctx, inputs, output, output arrays): the Function's forward on
    `args` with the tensors at `slots` made of `arrays`, in a custom rule of reverse
    mode (`reverse`) or forward mode."""
    from .. import _jax_bridge as bridge
    applied_at = _jax_core.trace_ctx.trace

    def run(arrays):
        inputs = list(args)
        for i, a in zip(slots, arrays):
            inputs[i] = bridge.wrap(a, device)
        ctx = cls._backward_cls(cls, ())
        ctx.needs_input_grad = tuple(i in slots for i in range(len(args)))
        out = None
        if (cls._custom_op_node or not with_ctx) and \
                _jax_core.trace_ctx.trace is not applied_at and _level_sees(inputs):
            out = _apply_outside(cls, inputs, kwargs, reverse)
        if out is None:
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
        # (a library.custom_op's outputs get zero tangents, as PyTorch's)
        result = (None,) * len(out_arrays) if cls._custom_op_node else \
            cls.jvp(ctx, *grad_inputs)
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
    run_forward = _forward_runner(cls, args, kwargs, slots, device, made, with_ctx,
                                  reverse=True)

    @jax.custom_vjp
    def function(*arrays):
        return run_forward(arrays)[3]

    def forward(*arrays):
        ctx, inputs, out, out_arrays = run_forward(arrays)
        if not with_ctx:
            cls.setup_context(ctx, tuple(inputs), out)
        made["ctx"] = ctx
        made["dtypes"] = [a.dtype for a in out_arrays]
        saved = tuple(None if t is None else t.jax() for t in ctx.to_save)
        return out_arrays, (saved, arrays)

    def backward(residuals, cotangents):
        saved, arrays = residuals
        ctx = made["ctx"]
        ctx._saved = tuple(None if a is None else (bridge.wrap(a, device), 0) for a in saved)
        # (an integer output's cotangent is JAX's float0: its backward gets zeros, as
        # PyTorch materializes an output's missing gradient)
        grads = cls.backward(ctx, *[bridge.wrap(
            jnp.zeros(c.shape, dtype) if c.dtype == jax.dtypes.float0 else c, device)
            for c, dtype in zip(cotangents, made["dtypes"])])
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(jnp.zeros_like(arrays[k]) if grads[i] is None else grads[i].jax()
                     for k, i in enumerate(slots))

    function.defvjp(forward, backward)
    outs = [bridge.wrap(o, device) for o in function(*[args[i].jax() for i in slots])]
    return outs[0] if made["single"] else tuple(outs)


# -- torchlike.compile's trace ----------------------------------------------------------
def compiling():
    """Whether torchlike.compile is tracing (not inside one of torch.func's transforms)."""
    from .. import _jax_bridge as bridge
    return not bridge.top_level() and bridge.state.compiling and not bridge.state.transforms


def tie_to_backward(ctx, backward, args, outputs):
    """A Function applied in torchlike.compile's trace records its node as in eager mode
    (a backward() inside the compiled function runs its backward), but where the
    program's results join a graph outside, the program is differentiated as a whole
    by jax.vjp, which would differentiate the forward's ops (run under no_grad: no
    gradient at all). So its outputs' arrays pass through a `jax.custom_vjp` whose
    pullback is the Function's backward, on what it saved and the tensors it set on ctx
    (the pullback's residuals: a tracer of this trace cannot be kept for it)."""
    from .. import _jax_bridge as bridge
    from .._tensor import Tensor
    slots = [i for i in ctx._input_positions if args[i].requires_grad]
    tied = [k for k, o in enumerate(outputs)
            if isinstance(o, Tensor) and o._grad_fn is ctx and o._whole]
    if not slots or not tied:
        return
    device = outputs[tied[0]].device
    to_save = ctx.to_save
    # tensors set as ctx attributes (`ctx.mask = mask`, or a list or tuple of them) are
    # residuals too
    kept = {name: _tensor_leaves(value) for name, value in vars(ctx).items()}
    kept = {name: leaves for name, leaves in kept.items() if leaves is not None}

    @jax.custom_vjp
    def tie(ins, outs, saved):
        return outs

    def forward(ins, outs, saved):
        return outs, (ins, outs, saved)

    def pullback(residuals, cotangents):
        ins, outs, saved = residuals
        run = copy.copy(ctx)       # (the traced ctx's saved tensors hold this trace's tracers)
        arrays = iter(saved)
        run._saved = tuple(None if t is None else (bridge.wrap(next(arrays), device), 0)
                           for t in to_save)
        run.packed = None
        for name, leaves in kept.items():
            values = [bridge.wrap(next(arrays), device) for _ in leaves]
            held = getattr(ctx, name)
            setattr(run, name, values[0] if isinstance(held, Tensor) else type(held)(values))
        grads = [None] * len(outputs)
        for k, c in zip(tied, cotangents):
            grads[k] = bridge.wrap(c, device)
        if ctx.materialize_grads:       # (as FunctionCtx.apply_backward)
            from .._factories import zeros
            grads = [g if g is not None or aval is None else zeros(aval[0], dtype=aval[1])
                     for g, aval in zip(grads, ctx.out_avals)]
        result = backward(run, *grads)
        result = result if isinstance(result, tuple) else (result,)
        return (tuple(jnp.zeros_like(a) if result[i] is None else result[i].jax().astype(a.dtype)
                      for a, i in zip(ins, slots)),
                jax.tree_util.tree_map(jnp.zeros_like, outs),
                jax.tree_util.tree_map(jnp.zeros_like, saved))

    tie.defvjp(forward, pullback)
    saved = tuple(t.jax() for t in to_save if t is not None) + \
        tuple(t.jax() for leaves in kept.values() for t in leaves)
    new = tie(tuple(args[i].jax() for i in slots), tuple(outputs[k].jax() for k in tied), saved)
    for k, array in zip(tied, new):
        outputs[k]._storage.array = array


def _tensor_leaves(value):
    """[value] for a Tensor, its items for a list or tuple of Tensors, else None."""
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        return [value]
    if type(value) in (list, tuple) and value and all(isinstance(v, Tensor) for v in value):
        return list(value)
    return None


def hook_in_program(tensor, hook):
    """A hook registered on a tensor in torchlike.compile's trace runs where backward()
    runs inside the compiled function (its node keeps it, as in eager mode), and, where
    the program's results are differentiated outside (jax.vjp of the whole program),
    on the gradient of the uses of the tensor after the hook was registered: its array
    passes through a `jax.custom_vjp` whose pullback calls the hook (a use before the
    registration, rare, is not seen: docs/jax.md)."""
    from .. import _jax_bridge as bridge
    if not compiling() or not tensor._whole:
        return
    device = tensor.device

    @jax.custom_vjp
    def hooked(array):
        return array

    def forward(array):
        return array, None

    def pullback(_, cotangent):
        out = hook(bridge.wrap(cotangent, device))
        return (cotangent if out is None else out.jax().astype(cotangent.dtype),)

    hooked.defvjp(forward, pullback)
    tensor._storage.array = hooked(tensor.jax())
