"""Running an op: unwrap tensors, call the compiled JAX function, wrap the results,
and record a graph node when grad mode is on and an input requires grad."""

from .. import _jax_bridge as bridge
from .. import _lazy as lazy
from .. import _caches
from .. import _meta as meta
from .._device import META, scalar_arg
from .._dtype import _BY_NP
from .._lazy import Deferred, force
from .._tensor import InferenceCounter, Tensor, edge_of, legacy_type_name
from ..autograd.grad_mode import _state as _modes
from ..autograd import anomaly_mode as anomaly
from ..autograd.graph import accumulator_edge, node_class, saved_hooks


def _common_device(inputs):
    """The device of the op (PyTorch's rule: 0-dim CPU tensors may join any device)."""
    device = None
    only_cpu_scalars = False        # `device` is the CPU of 0-dim tensors only, so far
    for x in inputs:
        if isinstance(x, Tensor):
            d = x._storage.device
            cpu_scalar = d.type == "cpu" and x.ndim == 0
            if device is None or (only_cpu_scalars and d != device):
                device, only_cpu_scalars = d, cpu_scalar
            elif d == device:
                only_cpu_scalars = only_cpu_scalars and cpu_scalar
            elif not cpu_scalar:
                if META in (d, device):
                    raise RuntimeError(f"Tensor on device {d} is not on the expected device "
                                       f"{device}!")
                first, second = (device, d) if device.type != "cpu" else (d, device)
                raise RuntimeError("Expected all tensors to be on the same device, but found "
                                   f"at least two devices, {first} and {second}!")
    return device


def apply(op, inputs, params=(), grad_fn=None):
    """Run `op` on `inputs` (Tensors or Python scalars) with static `params`."""
    if not bridge.top_level() and not bridge.state.folding:  # JAX is tracing: _jax_bridge.py
        return bridge.apply_traced(op, inputs, params, grad_fn)
    # One pass over the inputs finds their arrays, the device and, when the op can
    # record, each input's edge (this runs for every input of every op).
    grad_on = op.differentiable and _modes.enabled     # (is_grad_enabled, inlined)
    arrays = []
    edges = [] if grad_on else None
    diff = [] if grad_on else None       # which edges lead somewhere (record's `diff`)
    needs_grad = mixed = views = stale = False
    device = None
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x._storage.array if x._whole else x._raw())
            d = x._storage.device
            if device is None:
                device = d
            elif d is not device and d != device:
                mixed = True
            if not grad_on:
                continue
            if x._base is not None:
                # a view's history may need rebuilding (its grad_fn property): edges
                # are then made by _edges once the op records
                views = True
                if not needs_grad and x.requires_grad:
                    needs_grad = True
            elif x._grad_fn is not None:
                made, nr = x._grad_fn, x._output_nr
                edges.append((made, nr))
                diff.append(True)
                needs_grad = True
                # written in place since its node made it (record's `stale`)
                if made.out_versions and x._version_counter.value != made.out_versions[nr]:
                    stale = True
            elif x._requires_grad:
                edges.append(accumulator_edge(x))
                diff.append(True)
                needs_grad = True
            else:
                edges.append(_NO_EDGE)
                diff.append(False)
        else:
            arrays.append(x)
            if grad_on:
                edges.append(_NO_EDGE)
                diff.append(False)
    if mixed:
        device = _common_device(inputs)
        arrays = [_to_device(force(a), device) if isinstance(x, Tensor) else a
                  for a, x in zip(arrays, inputs)]
    out = None if bridge.state.replay is None else bridge.state.replay.take(op, params, arrays)
    if out is not None:
        pass        # computed by a split compiled function's prefix (_compile/split.py)
    elif device is META:
        out = meta.outputs(op, params, arrays)      # shapes and dtypes only (_meta.py)
    elif lazy.ENABLED and device is not None and (needs_grad or lazy.DEFER_UNRECORDED):
        out = lazy.defer(op, params, arrays, device)    # runs later, fused (see _lazy.py)
        if needs_grad and type(out) is Deferred:
            # the node keeps the pending call's own input tuple (the same values, with
            # computed Deferreds replaced by their arrays): one object less per node
            arrays = out.inputs
    else:
        if _caches.compiles.since_reset >= _caches.MAX_COMPILES:
            _caches.release_if_over_budget()     # (see _caches.py)
        out = op.compiled(params)(*[force(a) if isinstance(x, Tensor) else scalar_arg(a, device)
                                    for a, x in zip(arrays, inputs)])
    if type(out) is Deferred or not isinstance(out, (tuple, list)):
        if device is None:
            result = Tensor._wrap(out, device)
        else:           # (_wrap inlined: this runs for every op)
            result = _new_tensor(Tensor)
            result._init_from_array(out, device)
        outs = (result,)
    else:
        result = outs = tuple([Tensor._wrap(o, device) for o in out])
    if needs_grad:
        if views:
            node = record(op, params, _edges(inputs), arrays, outs, grad_fn, inputs)
        else:
            node = record(op, params, tuple(edges), arrays, outs, grad_fn, inputs,
                          tuple(diff), stale)
        if type(out) is Deferred:
            out.node = node        # (they share the input tuple: _lazy.install)
    return result


_NO_EDGE = (None, 0)
_new_tensor = object.__new__


def records_history(t):
    """Whether an op with Tensor input `t` records autograd history (grad mode on)."""
    return t._grad_fn is not None or t._requires_grad or (t._base is not None and t.requires_grad)


def _edges(inputs):
    """edge_of for each input (inlined for plain tensors: this runs for every recorded op)."""
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):
            out.append(_NO_EDGE)
        elif x._base is None:
            if x._grad_fn is not None:
                out.append((x._grad_fn, x._output_nr))
            elif x._requires_grad:
                out.append(accumulator_edge(x))
            else:
                out.append(_NO_EDGE)
        else:
            out.append(edge_of(x))
    return tuple(out)


def _to_device(array, device):
    from .._device import place
    return place(array, device)


INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")

# Binary ops whose derivative for one operand needs only the other: PyTorch saves an
# operand only when the other one requires grad (x * c does not save x), and so only
# then is modifying it in place an error. Op name -> the sum of the operands' positions
# (the add* family's product operands are its inputs 1 and 2).
_SAVED_FOR_OTHER = {"mul": 1, "rmul": 1, "matmul": 1, "addmm": 3}

_node_classes = {}      # grad_fn name -> its Node class


def _node_class_of(op, grad_fn):
    """The Node class of a node of `op` (named `grad_fn` where the caller names it); an
    op's own is kept on the op, so that recording it costs one attribute read."""
    if grad_fn is None:
        cls = op.node_class
        if cls is None:
            cls = op.node_class = node_class(op.grad_fn or (op.name.capitalize() + "Backward0"))
        return cls
    cls = _node_classes.get(grad_fn)
    if cls is None:
        cls = _node_classes[grad_fn] = node_class(grad_fn)
    return cls


def record(op, params, edges, arrays, outs, grad_fn=None, inputs=(), diff=None, stale=None):
    """Append a node for `outs` computed by op from `arrays` reached through `edges`
    (`inputs`, the tensors themselves, are needed only for saved-tensor checks).
    `diff` (which edges lead to a node) and `stale` (whether an input was written since
    its node made it) are found here unless the caller found them on its way."""
    # an edge exists only for tensors that require grad, which are floating or complex
    if diff is None:
        diff = tuple([e[0] is not None for e in edges])
    saved = _saved_entries(op, edges, outs, inputs) if op.saves else ()
    cls = op.node_class if grad_fn is None else None
    if cls is None:
        cls = _node_class_of(op, grad_fn)
    single = len(outs) == 1
    if single:
        o = outs[0]
        avals = _single_avals.get((o._shape, o._dtype))     # (_shared_avals' hit, inlined)
        node = cls(op, params, edges, tuple(arrays), diff, saved,
                   avals if avals is not None else _shared_avals(o._shape, o._dtype))
        version = o._version_counter.value
        node.out_versions = _FRESH if version == 0 else (version,)
    else:
        node = cls(op, params, edges, tuple(arrays), diff, saved,
                   tuple([(o._shape, o._dtype) for o in outs]))
        node.out_versions = tuple([o._version_counter.value for o in outs])
    # inputs written in place after their node made them, by an op that recorded nothing
    # (under no_grad): PyTorch's backward then uses the written values where it saved the
    # input, while the gradient still flows through its node. (An input with an edge is
    # a Tensor; callers that pass no `inputs` have none to check; a leaf's node has no
    # out_versions.)
    if stale is None:
        for (made, nr), x in zip(edges, inputs):
            if made is not None and made.out_versions and \
                    x._version_counter.value != made.out_versions[nr]:
                stale = True
                break
    if stale:
        node.stale = _stale_inputs(edges, inputs)
    if anomaly.state.enabled:          # where the forward ran, for errors in backward
        node.metadata["traceback_"] = anomaly.forward_traceback()
    if saved_hooks.stack:
        pack, unpack = saved_hooks.stack[-1]
        node.packed = (unpack, [(i, pack(outs[0] if i == "result" else inputs[i]))
                                for i, *_ in saved])
    if single:
        if o._dtype.is_floating_point or o._dtype.is_complex:
            o._grad_fn = node
            o._output_nr = 0
        return node
    for nr, o in enumerate(outs):
        if o._dtype.is_floating_point or o._dtype.is_complex:
            o._grad_fn = node
            o._output_nr = nr
    return node


def _stale_inputs(edges, inputs):
    """The positions of the inputs whose version moved since their node made them."""
    return tuple([i for i, ((made, nr), x) in enumerate(zip(edges, inputs))
                  if made is not None and made.out_versions
                  and x._version_counter.value != made.out_versions[nr]])


def _saved_entries(op, edges, outs, inputs):
    """What a node of `op` saves for backward: (input index | 'result', version counter,
    version now, the tensor or, for the result, its type name) for each saved tensor."""
    saved = []
    cross = _SAVED_FOR_OTHER.get(op.name)
    for i in op.saves:
        if cross and i != "result" and edges[cross - i][0] is None:
            continue                  # only the other operand's gradient would need it
        t = outs[0] if i == "result" else (inputs[i] if i < len(inputs) else None)
        if isinstance(t, Tensor):
            if type(t._version_counter) is InferenceCounter:
                raise RuntimeError(INFERENCE_SAVED)
            # a saved result is described by this node; keeping the tensor would make a cycle
            saved.append((i, t._version_counter, t._version_counter.value,
                          legacy_type_name(t) if i == "result" else t))
    return tuple(saved)


_FRESH = (0,)           # out_versions of one output made by the op (the usual case)
_single_avals = {}      # (Size, dtype) -> ((Size, dtype),), shared by the nodes of one shape


def _shared_avals(shape, dtype):
    """A node's out_avals for one output: one shared tuple per shape and dtype, so that
    a recorded op adds no objects of its own for them (each is one more object that the
    garbage collector walks while the graph lives)."""
    key = (shape, dtype)
    avals = _single_avals.get(key)
    if avals is None:
        if len(_single_avals) >= 4096:      # bounded: forget them all (cheap to make)
            _single_avals.clear()
        avals = _single_avals[key] = (key,)
    return avals


def dtype_of_array(a):
    return _BY_NP[a.dtype]
