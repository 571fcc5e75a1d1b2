"""torch.utils.checkpoint: trade compute for memory by recomputing a segment in backward.

use_reentrant=True is PyTorch's CheckpointFunction: the segment runs under no_grad (so
none of its activations are kept), and backward re-runs it with grad enabled, with the
random state of the first run, and back-propagates through the recomputed graph.
use_reentrant=False records the segment normally (PyTorch's graph), its nodes marked as
one region: the fused backward replays the region as a jax.checkpoint call, so XLA keeps
only the region's inputs and recomputes its intermediates during the backward.
"""
import contextlib
import enum
import warnings

from .. import autograd

_REENTRANT_WITH_GRAD = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing "
    "an `inputs` parameter to .backward(). To resolve this error, you can either set "
    "use_reentrant=False, or call .backward() without passing the `inputs` argument.")


def _default_use_reentrant(where):
    warnings.warn(f"{where}: the use_reentrant parameter should be passed explicitly. "
                  + ("Starting in PyTorch 2.9, calling checkpoint without use_reentrant will "
                     "raise an exception. " if where == "torch.utils.checkpoint" else
                     "In version 2.9 we will raise an exception if use_reentrant is not "
                     "passed. ")
                  + "use_reentrant=False is recommended, but if you need to preserve the "
                  "current default behavior, you can pass use_reentrant=True. Refer to docs "
                  "for more details on the differences between the two variants.",
                  stacklevel=3)
    return True


class CheckpointFunction(autograd.Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        from .. import get_rng_state
        from .._tensor import Tensor
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = list(args)
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_indices])
        with autograd.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from .. import get_rng_state, set_rng_state
        from .._tensor import Tensor
        from ..autograd import engine
        if not engine.checkpoint_valid():
            raise RuntimeError(_REENTRANT_WITH_GRAD)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t.detach().requires_grad_(t.requires_grad)
        outer_state = get_rng_state()
        if ctx.rng_state is not None:
            set_rng_state(ctx.rng_state)          # the same random draws as the first run
        try:
            with autograd.enable_grad():
                outputs = ctx.run_function(*inputs)
        finally:
            set_rng_state(outer_state)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None for t in inputs)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    if use_reentrant is None:
        use_reentrant = _default_use_reentrant("torch.utils.checkpoint")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    from ..autograd.graph import remat_region
    forward_context, _ = (context_fn or noop_context_fn)()   # (recomputing is XLA's)
    with remat_region(), forward_context:   # the fused backward recomputes these nodes
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    if use_reentrant is None:
        use_reentrant = _default_use_reentrant("torch.utils.checkpoint.checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def segment(start, end):
        def run(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return run
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return segment(end + 1, len(functions) - 1)(input)


# -- the module's other public names ---------------------------------------------------------
from ..autograd.compat import SavedTensor  # noqa: E402,F401  (re-exported, as PyTorch does)
from jax.tree_util import tree_map  # noqa: E402,F401  (containers map alike; tensors are leaves)


class GraphExecGroup:
    """Backward calls within one group recompute each checkpointed region at most once in
    PyTorch; XLA recomputes within each fused backward here, so the group only keeps
    PyTorch's nesting rule."""
    _current = None

    def __enter__(self):
        if GraphExecGroup._current is not None:
            raise RuntimeError("GraphExecGroup contexts cannot be nested. Already inside group "
                               f"{GraphExecGroup._current}")
        GraphExecGroup._current = self
        return self

    def __exit__(self, *args):
        GraphExecGroup._current = None


class CheckpointError(RuntimeError):
    pass


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output (see
    create_selective_checkpoint_contexts)."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What a selective-checkpoint policy function receives first."""

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """PyTorch's argument checks and its pair of contexts for context_fn. The policy is
    not consulted: the fused backward recomputes the whole region (docs/design.md)."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} "
                             f"of type {type(op)}. ")
    elif not callable(policy_fn_or_list):
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    return contextlib.nullcontext(), contextlib.nullcontext()


_early_stop = True
_debug = None


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Whether recomputation stops once the needed tensors exist (XLA decides here)."""
    global _early_stop
    prev, _early_stop = _early_stop, enable
    try:
        yield
    finally:
        _early_stop = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    global _debug
    prev, _debug = _debug, enabled
    try:
        yield
    finally:
        _debug = prev


def detach_variable(inputs):
    from .._tensor import Tensor
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
                 for x in inputs)


def check_backward_validity(inputs):
    from .._tensor import Tensor
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                      stacklevel=2)


class DefaultDeviceType:
    """The device type whose random state checkpoint saves when no input is on one."""
    _default_device_type = None

    @staticmethod
    def set_device_type(device="cuda"):
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        if not DefaultDeviceType._default_device_type:
            from ..accelerator import current_accelerator
            acc = current_accelerator(True)
            DefaultDeviceType._default_device_type = acc.type if acc else "cpu"
        return DefaultDeviceType._default_device_type


def get_device_states(*args):
    """(device indices of the accelerator tensors among args, their random states)."""
    from .._tensor import Tensor
    from .. import cuda
    stack, ids = list(args), []
    while stack:
        a = stack.pop(0)
        if isinstance(a, Tensor) and a.device.type not in ("cpu", "meta"):
            ids.append(a.get_device())
        elif isinstance(a, (list, tuple)):
            stack[:0] = list(a)
        elif isinstance(a, dict):
            stack[:0] = list(a.values())
    states = []
    for i in ids:
        with cuda.device(i):
            states.append(cuda.get_rng_state())
    return ids, states


def set_device_states(devices, states, *, device_type=None):
    from .. import cuda
    if (device_type or DefaultDeviceType.get_device_type()) == "meta":
        return
    for device, state in zip(devices, states):
        with cuda.device(device):
            cuda.set_rng_state(state)
