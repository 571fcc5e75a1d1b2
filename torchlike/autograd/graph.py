"""Graph nodes: what an operation records when an input requires grad.

A Node keeps the op entry, its static parameters, the input arrays as they were when
the op ran (JAX arrays are immutable, so keeping them is free), one edge per input
(`next_functions`) and what is needed to reproduce PyTorch's errors about freed or
modified saved tensors. Nodes never compute gradients themselves: the engine replays
them through jax.vjp.
"""
import functools
import weakref

from ..utils.hooks import RemovableHandle

# How PyTorch words the error for a second backward through freed saved tensors.
SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class _RematState:
    region = None


# While checkpoint(use_reentrant=False) runs its function, the nodes it records carry the
# region's token; the fused backward replays them as one jax.checkpoint call (engine.py).
remat_state = _RematState()


class remat_region:
    """Nodes recorded within the block form one region (nested blocks join the outer one)."""

    def __enter__(self):
        self._outer = remat_state.region
        if self._outer is None:
            remat_state.region = object()
        return self

    def __exit__(self, *exc):
        remat_state.region = self._outer
        return False


class Node:
    """A recorded operation; subclassed once per PyTorch grad_fn name."""

    # (what a plan check reads first, close together: a step checks nodes that the forward
    # made a while ago, and each cache line of a node read again costs more than its code)
    __slots__ = ("op", "params", "stale", "freed", "packed", "_pre_hooks", "_hooks",
                 "tensor_hooks", "retained", "remat", "seen", "saved", "edges", "arrays",
                 "_public_edges", "diff", "out_avals", "_metadata", "out_versions", "__weakref__")

    def __init__(self, op, params, edges, arrays, diff, saved, out_avals):
        self.op = op
        self.params = params
        self.edges = edges                     # (node | None, output_nr) for every input
        self._public_edges = None
        self.arrays = arrays                   # input values at record time
        # which inputs carry a gradient: those whose edge leads to a node or a leaf (every
        # op that records derives them so; a plan check compares the edges, not these)
        self.diff = diff
        self.saved = saved                     # ((input index | 'result', counter, version, desc))
        self.freed = False
        self.out_avals = out_avals             # ((shape, np dtype), ...) per output
        self._pre_hooks = None
        self._hooks = None
        self.tensor_hooks = None               # {output_nr: [hook, ...]} from Tensor.register_hook
        self.retained = None                   # {output_nr: weakref to tensor} from retain_grad
        self._metadata = None
        self.packed = None                     # (unpack_hook, [(saved index, packed)])
        self.out_versions = ()                 # outputs' version counters when made
        # inputs whose values changed after their node made them, by an in-place op
        # that recorded nothing (under no_grad): the replay must use the recorded values
        self.stale = None
        self.remat = remat_state.region        # the checkpoint region that recorded it
        # the token of the last plan check that met this node (_plans._check: a node met
        # twice in one check is shared where the plan's graph had two)
        self.seen = None

    def name(self):
        return _DISPLAY_NAMES.get(type(self).__name__, type(self).__name__)

    def __getattr__(self, attr):        # (only for names no slot or method has)
        if attr.startswith("_saved_") and self.op is not None:
            return _saved_attribute(self, attr)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    @property
    def next_functions(self):
        """PyTorch's edges: one per tensor argument. A Python number is an argument of
        PyTorch's Scalar overloads (x ** 2, x[1:]) and has no edge, except in the
        arithmetic ops, which wrap it as a tensor (x * 2 has two edges)."""
        if self._public_edges is None:
            if self.arrays is None or self.op is None or self.op.name in _WRAPS_NUMBERS:
                return self.edges
            self._public_edges = tuple(e for e, a in zip(self.edges, self.arrays)
                                       if hasattr(a, "shape"))
        return self._public_edges

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def metadata(self):
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node computed its input grads."""
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node; may return replacement grads."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return RemovableHandle(self._pre_hooks, fn)

    def add_tensor_hook(self, output_nr, fn):
        if self.tensor_hooks is None:
            self.tensor_hooks = {}
        return RemovableHandle(self.tensor_hooks.setdefault(output_nr, {}), fn)

    @property
    def has_python_hooks(self):
        return bool(self._pre_hooks or self._hooks or self.tensor_hooks or self.retained)

    @property
    def saves_anything(self):
        return bool(self.op.saves)

    def release(self):
        """Free what was saved for backward (the graph may still replay if nothing was)."""
        release_saved((self,))

    def unpack_saved(self):
        """Replace the saved inputs by what the unpack hook of saved_tensors_hooks gives
        back for what its pack hook returned (called before each backward)."""
        if not self.packed or self.arrays is None:
            return
        unpack, entries = self.packed
        arrays = list(self.arrays)
        for i, packed in entries:
            value = unpack(packed)
            if i != "result" and hasattr(value, "_data"):
                arrays[i] = value._data()
        self.arrays = tuple(arrays)


def release_saved(nodes):
    """Node.release of each of `nodes` that saves something (a plain backward's, without
    retain_graph; none is a custom Function's), its call inlined: every step frees them."""
    for node in nodes:
        if node.op.saves:
            if node._public_edges is None:
                node._public_edges = node.next_functions      # (it reads the arrays)
            node.freed = True
            node.arrays = None
            node.packed = None


def _saved_attribute(node, attr):
    """PyTorch's `grad_fn._saved_<argument>`: the saved input tensor itself (None where
    this node saved nothing for it), or for `_saved_result` the output with this node as
    its grad_fn; PyTorch's errors once freed or modified in place."""
    name = attr[len("_saved_"):]
    index = "result" if name == "result" else \
        _SAVED_NAMES.get(type(node).__name__, _DEFAULT_SAVED_NAMES).get(name)
    if index is None or index not in (node.op.saves or ()):
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'")
    if node.freed:
        raise RuntimeError(SECOND_BACKWARD)
    from .._tensor import Tensor
    for i, counter, version, desc in node.saved:
        if i != index:
            continue
        if counter.value != version:
            from .engine import _modified_message
            raise RuntimeError(_modified_message(node, i, counter.value, version, desc))
        if i != "result":
            return desc
        from .._lazy import force
        out = node.op.compiled(node.params)(*[force(a) for a in node.arrays])
        result = Tensor._wrap(out[0] if isinstance(out, (tuple, list)) else out)
        result._grad_fn, result._output_nr = node, 0
        return result
    value = node.arrays[index] if index != "result" else None
    # a Python number the op wrapped (x * 2 saves the 2 as a tensor); else not saved
    return Tensor._wrap(_number_array(value)) if isinstance(value, (int, float)) else None


def _number_array(value):
    import jax.numpy as jnp
    return jnp.asarray(value, jnp.int64 if isinstance(value, int) else jnp.float64)


# Saved arguments by input position, under PyTorch's names (its derivatives.yaml).
_DEFAULT_SAVED_NAMES = {"self": 0, "other": 1}
_SAVED_NAMES = {"MmBackward0": {"self": 0, "mat2": 1}, "BmmBackward0": {"self": 0, "mat2": 1},
                "AddmmBackward0": {"mat1": 1, "mat2": 2}}

_WRAPS_NUMBERS = frozenset({"add", "sub", "mul", "div", "true_divide"})

# Nodes implemented in PyTorch's C++ core report a qualified name().
_DISPLAY_NAMES = {"CopySlices": "torch::autograd::CopySlices", "Error": "torch::autograd::Error",
                  "CopyBackwards": "torch::autograd::CopyBackwards"}


# Node is subclassed once per grad_fn name so that type(y.grad_fn).__name__ and
# isinstance checks look like PyTorch's generated classes.
@functools.cache
def node_class(name, base=Node):
    return type(name, (base,), {"__slots__": ()})


class AccumulateGrad:
    """The sink of a leaf tensor that requires grad: one per leaf while a graph (or the
    user) holds it (see accumulator_of)."""

    __slots__ = ("variable", "_pre_hooks", "_hooks", "_metadata", "__weakref__")
    next_functions = edges = ()
    out_versions = ()     # a leaf is not made by an op (read for every recorded op's inputs)

    def __init__(self, variable):
        self.variable = variable
        self._pre_hooks = None
        self._hooks = None
        self._metadata = None

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    metadata = Node.metadata
    register_hook = Node.register_hook
    register_prehook = Node.register_prehook


def accumulator_of(tensor):
    """The AccumulateGrad node of a leaf: the one the leaf's graph (or the user) still
    holds, else a new one. As in PyTorch, the leaf refers to it weakly and the node to
    the leaf strongly: a graph keeps its leaves alive, and a leaf made for one step (an
    input that requires grad) is freed by reference counting with its graph. (A strong
    reference both ways made a cycle that held each such leaf and its .grad until the
    cyclic collector ran.)"""
    ref = tensor._accumulator
    acc = None if ref is None else ref()
    if acc is None:
        acc = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(acc)
    return acc


def accumulator_edge(tensor):
    """The edge an op on leaf `tensor` records: (its AccumulateGrad, 0)."""
    return (accumulator_of(tensor), 0)


# -- saved tensors hooks ------------------------------------------------------------------
class _SavedHooks:
    """The active (pack, unpack) pairs, innermost last, and the disabling message."""
    stack = []
    disabled = None


saved_hooks = _SavedHooks()


class saved_tensors_hooks:
    """Within the block, every tensor an op saves for backward is given to pack_hook when
    recorded, and what it returned to unpack_hook when backward needs the tensor."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if saved_hooks.disabled is not None:
            raise RuntimeError(saved_hooks.disabled)
        saved_hooks.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        saved_hooks.stack.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors live on the CPU between forward and backward."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return (t.device, t.cpu())

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Within the block, entering saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self._prev = saved_hooks.disabled
        saved_hooks.disabled = self.error_message
        return self

    def __exit__(self, *exc):
        saved_hooks.disabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


# -- gradient edges and multi-tensor hooks --------------------------------------------------
import collections as _collections

GradientEdge = _collections.namedtuple("GradientEdge", ("node", "output_nr"))
GradientEdge.__doc__ = "Where a tensor's gradient enters the graph: (node, output_nr)."


def get_gradient_edge(tensor):
    """The edge autograd.grad can take in place of the tensor (its grad_fn, or its
    AccumulateGrad node for a leaf)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    from .._tensor import edge_of
    return GradientEdge(*edge_of(tensor))


class _MultiHandle:
    __slots__ = ("handles",)

    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """mode 'all': fn(grads) once per backward with every tensor's gradient (None for a
    tensor that got none), after the backward computed them; mode 'any': fn(grad) with
    the first gradient computed for any of the tensors."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    from .engine import queue_callback
    tensors = tuple(tensors)
    collected = {}

    def fire():
        grads = [collected.get(i) for i in range(len(tensors))]
        collected.clear()
        fn(grads)

    def make_hook(i):
        def hook(grad):
            if mode == "any":
                if not collected:
                    collected[i] = grad
                    queue_callback(collected.clear)
                    fn(grad)
                return None
            if not collected:
                queue_callback(fire)
            collected[i] = grad
            return None
        return hook
    return _MultiHandle([t.register_hook(make_hook(i)) for i, t in enumerate(tensors)
                         if t.requires_grad])
