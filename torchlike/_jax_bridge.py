"""Where torchlike meets JAX: tensors that wrap tracers, and tensors as jax.Arrays.

Inside `jax.jit`, `jax.grad`, `jax.vmap` (and `torchlike.func`, built on them) a Tensor
may hold a JAX tracer instead of a concrete array. Such a tensor lives in a pure,
functional mode: its ops run their JAX implementation directly, nothing is recorded for
autograd and nothing is deferred (a pending graph would outlive the trace). (A whole
torchlike.func transform joins the autograd graph as one node: _func_autograd.py.)

Ops, writes and cached values that torchlike computes inside a trace from concrete
values only (a captured parameter, a cached Python number, a deferred value) are
evaluated at trace time (`jax.ensure_compile_time_eval`), so that no tracer reaches a
cache or a tensor made outside the trace, unless the traced function itself writes
traced values into such a tensor (a side effect, as in JAX; factories such as
`torchlike.ones` inside `jax.jit` give tracers, as `jnp.ones` does).

`dispatch.apply` sends every op here while JAX is tracing (one check of JAX's trace
state; nothing else in the eager path changes).
"""
import contextlib
import os
import sys
import threading

import jax

from . import _device
from . import _lazy
from ._lazy import Deferred, force, top_level
from ._storage import Storage, write_scope
from ._symbolic import SymNumber
from ._tensor import Tensor
from .autograd.grad_mode import is_grad_enabled

Tracer = jax.core.Tracer

# top_level(): True when JAX is not tracing (the eager fast path in dispatch.apply tests it)


class _State(threading.local):
    folding = 0        # > 0 while an op on concrete values runs at trace time
    forward = 0        # > 0 inside torchlike.func's forward-mode transforms (jvp, jacfwd)
    forward_scopes = 0  # transform scopes open when the innermost of them began: more
    # now means a reverse-mode transform runs inside it (hessian's jacrev in its jacfwd)
    batching = 0       # > 0 inside torchlike.func's vmap, and jacfwd (PyTorch's: vmap of jvp)
    functional_forward = 0  # > 0 inside autograd.functional.jacobian's forward mode
    # torchlike.func's autograd (_func_autograd.py): tensors that require grad, born
    # before the transform, that it reads (id -> tensor), and tracers standing in for them
    captures = None
    captured_before = 0     # tensors born before this Storage.epoch are the captures of
    # the outermost transform running
    substitute = None
    on_traced_outputs = None     # forward_ad's dual level: sees each traced op's outputs
    dual_level = None            # forward_ad's level (autograd/forward_ad.py) while open
    compiling = 0      # > 0 while torchlike.compile traces: ops on tracers are recorded
    transforms = 0     # > 0 while a torchlike.func transform runs: its ops are not
    # a compiled training step: each recorded node's pullback, made with its forward
    # (torchlike/_compile/pullbacks.py)
    pullbacks = None
    # a graph break's split (torchlike/_compile/split.py): the trace's log of ops, and
    # the eager run's replay of them
    op_log = None
    replay = None
    # while a compiled function is traced, .item() gives a symbol (_symbolic.py):
    # CAPTURED where PyTorch captures it too (fullgraph=True, capture_scalar_outputs),
    # SPECULATIVE where PyTorch breaks the graph (kept if nothing needs its value, else
    # traced again without: _compile/breaks.SpeculationFailed); None: a plain .item()
    capture_scalars = None
    # a trace's symbol was needed as a Python value (_symbolic.SymNumber._needs_value)
    symbol_needed = False
    captured_kinds = ()     # PyTorch's reasons for the breaks a speculative trace avoided

    def __init__(self):
        # torch.func's grad-type transforms running (innermost last): (the Storage.epoch
        # their own tensors are born at or after, whether every write into an older
        # tensor is refused (torch.func) or only a traced one (autograd.functional))
        self.transform_scopes = []
        # torchlike.func.vmap's levels running: (its BatchTrace's tag, its randomness),
        # what a Function's vmap staticmethod is told (JAX's tags all compare equal: a
        # level is found by identity)
        self.vmap_levels = []


state = _State()


CAPTURED, SPECULATIVE = "captured", "speculative"


def is_tracer(array):
    return isinstance(array, Tracer)


def default_device():
    """The torchlike device of JAX's default device (where a tracer's values live)."""
    return _device.from_jax(jax.local_devices()[0])


def wrap(array, device=None):
    """A Tensor on `array` (concrete or a tracer), sharing it."""
    if device is None:
        device = default_device() if is_tracer(array) else None
    return Tensor._wrap(array, device)


def value(tensor):
    """The jax.Array (or tracer) holding `tensor`'s values; concrete values stay
    concrete under a trace."""
    if top_level():
        return tensor._data()
    return _array_in_trace(tensor)


def _array_in_trace(tensor, pending_ok=False, note=True):
    """A tensor's array while JAX traces: concrete values stay concrete (a pending one
    stays pending with `pending_ok`); a captured tensor that requires grad is noted
    (unless `note` is false: a read that no gradient can flow through), or replaced by
    its stand-in tracer."""
    if state.substitute is not None:
        stand_in = state.substitute.get(id(tensor))
        if stand_in is not None:
            return stand_in
    if pending_ok:
        array = tensor._raw()
    else:
        with jax.ensure_compile_time_eval():
            array = force(tensor._raw())
    if note and state.captures is not None and tensor.requires_grad and \
            tensor._storage.born < state.captured_before:
        state.captures[id(tensor)] = tensor
    return array


def computed(arrays):
    """`arrays` with their pending values computed, all in one program."""
    pending = [a for a in arrays if type(a) is Deferred and a._value is None]
    if pending:
        with jax.ensure_compile_time_eval():
            _lazy.materialize(pending)
    return [force(a) for a in arrays]


def apply_traced(op, inputs, params, grad_fn=None):
    """dispatch.apply while JAX is tracing."""
    from ._ops import dispatch
    arrays = [_array_in_trace(x, True) if isinstance(x, Tensor) else
              x._value if isinstance(x, SymNumber) else x for x in inputs]
    if not any([isinstance(a, Tracer) for a in arrays]):
        # only concrete values: the ordinary path, evaluated now (constant folding)
        state.folding += 1
        if state.op_log is not None:
            state.op_log.add(op, params, arrays, None)
        # torchlike.compile's trace turns the lazy engine off; a folded op goes pending
        # again, so that a run of them is computed in one program when a value is read
        # (an op at a time would compile one small program each)
        lazy_enabled = _lazy.ENABLED
        _lazy.ENABLED = True
        try:
            with jax.ensure_compile_time_eval():
                return dispatch.apply(op, inputs, params, grad_fn)
        finally:
            _lazy.ENABLED = lazy_enabled
            state.folding -= 1
    arrays = computed(arrays)
    device = None
    for x in inputs:
        if isinstance(x, Tensor):
            if device is not None and x._storage.device != device:
                device = dispatch._common_device(inputs)   # PyTorch's error, if any
                break
            device = device or x._storage.device
    device = device or default_device()
    # torchlike.compile traces the op's own function: a jitted one per op would be traced
    # and lowered apart (a nested program per op), slowing the first call
    recording = None
    compiling = state.compiling and not state.transforms
    if compiling and state.pullbacks is not None and is_grad_enabled() and op.differentiable:
        from ._compile import pullbacks
        recording = pullbacks.linearized(op, params, inputs, arrays)
    if recording is not None:
        out, pullback = recording
    else:
        out = (op.bind(params) if state.compiling else op.compiled(params))(*arrays)
    if state.op_log is not None:
        state.op_log.add(op, params, arrays, out)
    multi = isinstance(out, (tuple, list))
    if compiling:
        # torchlike.compile: autograd records as in eager mode, so that backward() and
        # the optimizer inside the compiled function trace into the same program
        outs = tuple([Tensor._wrap(o, device) for o in (out if multi else (out,))])
        if is_grad_enabled() and op.differentiable:
            edges = dispatch._edges(inputs)
            if any(e[0] is not None for e in edges):
                node = dispatch.record(op, params, edges, arrays, outs, grad_fn, inputs)
                if recording is not None:
                    state.pullbacks[node] = pullback
        elif not is_grad_enabled():
            # (the program is differentiated as a whole where its results join a graph
            # outside: what no_grad computed carries no gradient there, as in PyTorch)
            outs = tuple([Tensor._wrap(jax.lax.stop_gradient(o), device)
                          for o in (out if multi else (out,))])
        return outs if multi else outs[0]
    if not is_grad_enabled() and not state.forward and state.dual_level is None:
        # no_grad inside a reverse-mode transform blocks gradients, as in torch.func
        # (forward-mode AD ignores grad mode, in PyTorch too: forward_ad's as well)
        out = jax.lax.stop_gradient(tuple(out) if multi else out)
    outs = tuple([Tensor._wrap(o, device) for o in (out if multi else (out,))])
    if state.on_traced_outputs is not None:
        state.on_traced_outputs(outs)
    return outs if multi else outs[0]


_INPLACE_VMAP_ERROR = (
    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a "
    "Tensor `other` in extra_args that has more elements than `self`. This happened due to "
    "`other` being vmapped over but `self` not being vmapped over in a vmap. Please try to "
    "use out-of-place operators instead of inplace arithmetic. If said operator is being "
    "called inside the PyTorch framework, please file a bug report instead.")


_BATCH_NORM_VMAP_ERROR = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which "
    "will be updated in place, were not batched.\nIf you are using a module and do not need "
    "eval mode, please set `track_running_stats` to be False.If you are using a prebuilt "
    "module and do not need eval mode, please see the functorch website for resources on "
    "how to patch your module to work with vmap")


def check_norm_statistics(input, statistics):
    """PyTorch's vmap error, raised before anything runs, for a batch norm that would write
    a batched input's statistics into running ones that are not batched."""
    from jax._src.interpreters.batching import BatchTracer
    if top_level() or not isinstance(input._raw(), BatchTracer):
        return
    if any(s is not None and not isinstance(s._raw(), BatchTracer) for s in statistics):
        raise RuntimeError(_BATCH_NORM_VMAP_ERROR)


# torch.func's transforms name the in-place op; PyTorch's overload of the arithmetic ones
# (their Python numbers become tensors) is `.Tensor`, fill_'s `.Scalar`
_TENSOR_OVERLOADS = frozenset(("add_", "sub_", "mul_", "div_", "true_divide_", "pow_",
                               "remainder_", "fmod_", "floor_divide_", "bitwise_and_",
                               "bitwise_or_", "bitwise_xor_", "lerp_", "addcmul_", "addcdiv_"))


_INPLACE_METHOD_FILE = os.path.join("_ops", "_common.py")     # (inplace_method's `method`)


def _captured_write_error():
    """PyTorch's message for an in-place op on a captured tensor inside grad, vjp, jvp
    and the like; the op is the in-place method found on the stack (an error path)."""
    name = "copy_"
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "method" and code.co_filename.endswith(_INPLACE_METHOD_FILE):
            name = getattr(frame.f_locals.get("fn"), "__name__", "op") + "_"
            break
        if code.co_name.endswith("_") and not code.co_name.startswith("_") and \
                f"{os.sep}torchlike{os.sep}" in code.co_filename:
            name = code.co_name
            break
        frame = frame.f_back
    overload = ".Tensor" if name in _TENSOR_OVERLOADS else ".Scalar" if name == "fill_" else ""
    return ("During a grad (vjp, jvp, grad, etc) transform, the function provided attempted "
            f"to call in-place operation (aten::{name}{overload}) that would mutate a captured "
            "Tensor. This is not supported; please rewrite the function being transformed to "
            "explicitly accept the mutated Tensor(s) as inputs.")


@contextlib.contextmanager
def transform_scope(strict=True):
    """A grad-type transform's own tensors are those born inside this block: a write
    into an older one (captured) raises PyTorch's error, where it would otherwise keep
    the transform's tracer (`strict`: any write, as torch.func; else only a traced one,
    as autograd.functional, whose PyTorch writes such a value eagerly)."""
    Storage.epoch += 1
    state.transform_scopes.append((Storage.epoch, strict))
    try:
        yield
    finally:
        state.transform_scopes.pop()


def write_in_trace(tensor, value):
    """Tensor._write while JAX traces. A write of concrete values stays concrete (the
    tensor may outlive the trace); batched values cannot go into a tensor that is not
    batched (PyTorch's vmap error; it would also leave a tracer in, say, a module's
    buffer)."""
    from jax._src.interpreters.batching import BatchTracer
    if write_scope.writable is not None:
        from ._compile.effects import check_writable
        check_writable(tensor._storage, "writes in place to")
    if isinstance(value, BatchTracer) and (not isinstance(tensor._storage.array, Tracer) or
                                           tensor._storage.born < state.captured_before):
        raise RuntimeError(_INPLACE_VMAP_ERROR)
    if state.transform_scopes:
        born_from, strict = state.transform_scopes[-1]
        if tensor._storage.born < born_from and (strict or isinstance(value, Tracer)):
            raise RuntimeError(_captured_write_error())
    if state.compiling and not state.transforms and isinstance(value, Tracer) and \
            not is_grad_enabled() and tensor.requires_grad:
        value = _same_variable(tensor._raw(), value)
    with jax.ensure_compile_time_eval():
        return tensor._write_now(value)


@jax.custom_jvp
def _same_variable(old, new):
    """`new`, differentiated as `old`: a write under no_grad into a tensor that requires
    grad (`w.clamp_()` in a compiled forward) changes its value, not the variable whose
    gradient later uses compute (PyTorch's leaf keeps its identity). Plain
    stop_gradient would give the old value no gradient at all."""
    return new


@_same_variable.defjvp
def _same_variable_jvp(primals, tangents):
    return primals[1], tangents[0]


def detached(tensor):
    """Tensor.detach of a tensor holding a tracer: its values with no gradient (the
    tracer's, through jax.lax.stop_gradient); None for a concrete tensor. A captured
    tensor read this way is not noted: as in PyTorch, a transform's results that depend
    on it only through detach() do not join its graph."""
    array = tensor._data() if top_level() else _array_in_trace(tensor, note=False)
    if not is_tracer(array):
        return None
    return Tensor._wrap(jax.lax.stop_gradient(array), tensor.device)


# -- arrays in, arrays out -------------------------------------------------------------
def from_jax(array):
    """torchlike.from_jax: a Tensor sharing `array`'s buffer (no copy), as
    torch.from_numpy shares a numpy array's."""
    if not isinstance(array, jax.Array):
        raise TypeError(f"expected jax.Array (got {type(array).__name__})")
    return wrap(array)


def dlpack_of(tensor, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Tensor.__dlpack__: the DLPack capsule of the tensor's jax.Array."""
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    array = tensor._data()
    kwargs = {"stream": stream}
    if max_version is not None:
        kwargs["max_version"] = max_version
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    return array.__dlpack__(**kwargs)


def dlpack_device_of(tensor):
    return tensor._data().__dlpack_device__()


class _Capsule:
    """A bare DLPack capsule (torch.utils.dlpack.to_dlpack's result) dressed as an
    object with __dlpack__ / __dlpack_device__, as jax.dlpack.from_dlpack wants."""

    def __init__(self, capsule):
        import ctypes
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype = ctypes.c_void_p
        get.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = get(capsule, b"dltensor")     # DLManagedTensor: DLTensor comes first
        # DLTensor: void *data; DLDevice {int32 device_type; int32 device_id}; ...
        device = (ctypes.c_int32 * 2).from_address(address + ctypes.sizeof(ctypes.c_void_p))
        self._device = (int(device[0]), int(device[1]))
        self._capsule = capsule

    def __dlpack__(self, stream=None, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return self._device


def from_dlpack(ext):
    """torchlike.from_dlpack: a Tensor sharing the memory of any DLPack producer
    (a torch.Tensor, a numpy array, a jax.Array, a capsule)."""
    if isinstance(ext, Tensor):
        ext = ext._data()
    if isinstance(ext, jax.Array):
        return wrap(ext)
    if type(ext).__name__ == "PyCapsule":
        ext = _Capsule(ext)
    return wrap(jax.dlpack.from_dlpack(ext))


def to_dlpack(tensor):
    """torchlike.utils.dlpack.to_dlpack: a DLPack capsule (legacy, unversioned)."""
    return dlpack_of(tensor)
