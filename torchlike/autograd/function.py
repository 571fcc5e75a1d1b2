"""torch.autograd.Function: user-defined forward/backward pairs.

As in PyTorch, the `ctx` object handed to forward/backward *is* the graph node: the
outputs' grad_fn is an instance of `<ClassName>Backward`. The engine runs these nodes
one by one (calling the user's Python backward with torchlike Tensors).
"""
import functools

import jax.numpy as jnp

from . import _function_in_transforms as _in_transforms
from .graph import SECOND_BACKWARD, Node, saved_hooks
from .grad_mode import is_grad_enabled, no_grad


class FunctionCtx(Node):
    """The ctx / grad_fn of a custom Function (has a __dict__ for user attributes)."""

    def __init__(self, fn_cls, edges):
        super().__init__(None, None, edges, (), (), (), ())
        self._fn_cls = fn_cls
        self.to_save = ()
        self.saved_for_forward = None
        self._saved = None
        self.dirty_tensors = ()
        self.non_differentiable = ()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self._input_positions = ()

    # -- what forward may call --------------------------------------------------------
    def save_for_backward(self, *tensors):
        from .._tensor import Tensor
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors
        self._saved = _with_versions(tensors)
        if saved_hooks.stack:            # saved_tensors_hooks apply to these too
            pack, unpack = saved_hooks.stack[-1]
            self.packed = (unpack, [None if t is None else pack(t) for t in tensors])

    @property
    def saved_tensors(self):
        if self.freed:
            raise RuntimeError(SECOND_BACKWARD)
        out = []
        for entry in self._saved or ():
            if entry is None:
                out.append(None)
                continue
            t, version = entry
            if t._version_counter.value != version:
                from .engine import _modified_message
                raise RuntimeError(_modified_message(self, 0, t._version_counter.value, version, t))
            out.append(t)
        if self.packed:
            unpack, packed = self.packed
            out = [None if p is None else unpack(p) for p in packed]
        return tuple(out)

    def save_for_forward(self, *tensors):
        """What `jvp` reads as ctx.saved_tensors (torch.func's forward-mode transforms)."""
        from .._tensor import Tensor
        if not all(t is None or isinstance(t, Tensor) for t in tensors):
            raise AssertionError("save_for_forward expects all arguments to be tensors; you "
                                 "should save non-tensors as attributes on ctx.")
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors):
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    @property
    def saves_anything(self):
        return bool(self._saved)

    def release(self):
        if self._saved:
            self.freed = True
            self._saved = None
            self.packed = None

    def unpack_saved(self):
        """(saved_tensors unpacks when the user's backward asks for them)"""

    # -- what the engine calls --------------------------------------------------------
    def apply_backward(self, grads):
        from .._factories import zeros
        from .._tensor import Tensor
        if self.materialize_grads:       # (a non-tensor output's slot stays None)
            grads = [g if g is not None or aval is None else zeros(aval[0], dtype=aval[1])
                     for g, aval in zip(grads, self.out_avals)]
        result = _user_backward(self._fn_cls)(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(self.needs_input_grad)
        if len(result) != n_args:
            if len(result) > n_args and all(r is None for r in result[n_args:]):
                result = result[:n_args]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {n_args}, got {len(result)})")
        for pos, g in enumerate(result):
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if g is not None and pos not in self._input_positions:
                raise RuntimeError(f"function {self.name()} returned a gradient different than "
                                   f"None at position {pos + 1}, but the corresponding forward "
                                   "input was not a Variable")
        out = []
        for pos, (node, _) in zip(self._input_positions, self.edges):
            g = result[pos]
            arg_shape = self._arg_shapes[pos]
            if g is not None:
                if tuple(g.shape) != arg_shape:
                    reduced = _reduce_to_shape(g, arg_shape)
                    if reduced is None:
                        raise RuntimeError(
                            f"Function {self.name()} returned an invalid gradient at index "
                            f"{pos} - got {list(g.shape)} but expected shape compatible with "
                            f"{list(arg_shape)}")
                    g = reduced
            out.append(g)
        return out


def _with_versions(tensors):
    return tuple(None if t is None else (t, t._version_counter.value) for t in tensors)


def _reduce_to_shape(g, shape):
    """Sum a broadcast gradient back to `shape`, or None if it cannot be."""
    extra = g.ndim - len(shape)
    if extra < 0:
        return None
    dims = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if any(n != 1 and g.shape[extra + i] != n for i, n in enumerate(shape)):
        return None
    return g.sum(dims, keepdim=True).reshape(shape) if dims else g


class FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {})


def _user_backward(fn_cls):
    """The user's backward, or vjp (an alias PyTorch accepts), but not both."""
    has_backward = fn_cls.backward is not Function.backward
    has_vjp = fn_cls.vjp is not Function.vjp
    if has_backward and has_vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                           "allowed. You should only implement one of them.")
    return fn_cls.vjp if has_vjp else fn_cls.backward


class Function(metaclass=FunctionMeta):
    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd "
                      "functions are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    # torch.func: under vmap, its own vmap staticmethod, or with generate_vmap_rule its
    # forward batched; forward-mode transforms call jvp (_function_in_transforms.py)
    generate_vmap_rule = False
    _custom_op_node = False         # (torchlike.library's op nodes)
    # torchlike's own nodes for results that are JAX's (a compiled call's, a transform's):
    # a program traced around them differentiates those results itself
    _results_from_jax = False

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(_in_transforms.NO_JVP)

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either "
                                  "override the vmap staticmethod or set "
                                  "generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, edge_of
        mode = _in_transforms.mode(cls, args)
        if mode == "reverse":              # (inside torch.func.grad and the like)
            return _in_transforms.apply_in_transform(cls, args, kwargs)
        if mode == "forward":              # (inside torch.func.jvp, jacfwd, linearize)
            return _in_transforms.apply_forward_mode(cls, args, kwargs)
        if mode == "vmap":                 # (its own vmap staticmethod, inside vmap)
            return _in_transforms.apply_batched(cls, args, kwargs,
                                                _in_transforms.vmap_level(args))
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = is_grad_enabled() and any(needs)
        ctx = cls._backward_cls(cls, tuple(edge_of(args[i]) for i in positions))
        ctx.needs_input_grad = needs
        ctx._input_positions = positions
        ctx._arg_shapes = tuple(tuple(a.shape) if isinstance(a, Tensor) else None for a in args)
        uses_setup_context = cls.setup_context is not Function.setup_context
        with no_grad():
            if uses_setup_context:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        _check_dirty(ctx, outputs, record)
        for t in ctx.dirty_tensors:      # PyTorch counts marking dirty as one more write
            t._version_counter.value += 1
        if not record:
            # an input returned as it is comes back as a new alias outside the graph
            input_ids = {id(a) for a in args if isinstance(a, Tensor)}
            dirty = {id(t) for t in ctx.dirty_tensors}
            fresh = tuple(o.detach() if isinstance(o, Tensor) and id(o) in input_ids
                          and id(o) not in dirty else o for o in outputs)
            return fresh if is_tuple else fresh[0]
        wrapped = []
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        dirty = {id(t) for t in ctx.dirty_tensors}
        non_diff = {id(t) for t in ctx.non_differentiable}
        avals = []
        for nr, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                avals.append(None)           # backward still gets a (None) slot for it
                continue
            avals.append((tuple(o.shape), o.dtype))
            if id(o) in input_ids and id(o) not in dirty:
                o = o.detach()     # returning an input unchanged gives a new alias
            if id(o) not in non_diff and (o.dtype.is_floating_point or o.dtype.is_complex):
                o._grad_fn, o._output_nr = ctx, nr
                o._requires_grad = False
            wrapped.append(o)
        ctx.out_avals = tuple(avals)
        if not cls._results_from_jax and _in_transforms.compiling():
            # (where the program's results are differentiated outside: this backward)
            _in_transforms.tie_to_backward(ctx, _user_backward(cls), args, wrapped)
        for t in ctx.dirty_tensors:
            if t._base is not None and t._grad_fn is ctx:
                _move_history_to_base(ctx, t, [args[i] for i in positions])
        from . import anomaly_mode
        if anomaly_mode.state.enabled:     # where the forward ran, for errors in backward
            ctx.metadata["traceback_"] = anomaly_mode.forward_traceback()
        return tuple(wrapped) if is_tuple else wrapped[0]


class CopySlices(Node):
    """The history of a view's base after a custom Function wrote into the view in place
    (mark_dirty), as PyTorch records it: the Function's backward runs on the view's part of
    the base's gradient, and the rest of the gradient passes to the base's old history."""

    __slots__ = ("fn", "position", "out_nr", "where")

    def __init__(self, fn, position, out_nr, view, base):
        from .._tensor import Tensor, edge_of
        edges = list(fn.edges)
        edges[position] = edge_of(base) if base.requires_grad else (None, 0)
        super().__init__(None, None, tuple(edges), (), (), (), ((tuple(base.shape), base.dtype),))
        self.fn, self.position, self.out_nr = fn, position, out_nr
        self.where = Tensor._wrap(jnp.asarray(_positions_in_base(view, base)), base.device)

    def apply_backward(self, grads):
        from .._factories import zeros
        (g,) = grads
        shape, dtype = self.out_avals[0]
        flat = (zeros(shape, dtype=dtype) if g is None else g).reshape(-1)
        fn_grads = [None] * len(self.fn.out_avals)
        size = self.fn.out_avals[self.out_nr][0]
        fn_grads[self.out_nr] = flat[self.where].reshape(size)
        result = list(self.fn.apply_backward(fn_grads))
        part = result[self.position]
        part = zeros(self.where.shape, dtype=flat.dtype) if part is None else part.reshape(-1)
        result[self.position] = flat.scatter(0, self.where, part).reshape(shape)
        return result

    @property
    def saves_anything(self):
        return self.fn.saves_anything

    def release(self):
        self.fn.release()


def _positions_in_base(view, base):
    """For each element of view (row-major), its row-major position among base's
    elements, matched through their storage offsets."""
    import numpy as np

    def offsets(t):
        out = np.full(tuple(t.shape), t._offset, dtype=np.int64)
        for d, (n, step) in enumerate(zip(t.shape, t.stride())):
            out += (np.arange(n) * step).reshape([-1 if k == d else 1 for k in range(t.ndim)])
        return out.reshape(-1)
    base_offsets = offsets(base)
    order = np.argsort(base_offsets, kind="stable")
    return order[np.searchsorted(base_offsets[order], offsets(view))]


def _move_history_to_base(ctx, view, tensor_args):
    """A view the Function modified in place: its base takes the history (CopySlices) and
    the view reads its own from the base from now on (AsStridedBackward0)."""
    position = next(k for k, a in enumerate(tensor_args) if a is view)
    base = view._base
    node = CopySlices(ctx, position, view._output_nr, view, base)
    base._grad_fn, base._output_nr = node, 0
    view._view_version = -1


def _check_dirty(ctx, outputs, record):
    output_ids = {id(o) for o in outputs}
    for t in ctx.dirty_tensors:
        if id(t) not in output_ids:
            raise RuntimeError("Some elements marked as dirty during the forward method were not "
                               "returned as output. The inputs that are modified inplace must "
                               "all be outputs of the Function.")
        if record and t.is_leaf and t.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        base = t._base
        if record and base is not None and base.is_leaf and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")


_TWICE = "trying to differentiate twice a function that was marked with @once_differentiable"


class Error(FunctionCtx):
    """PyTorch's DelayedError node: differentiating through it raises."""

    def apply_backward(self, grads):
        raise RuntimeError(_TWICE)


def once_differentiable(fn):
    """The backward runs without recording; if its result would have needed a graph
    (create_graph with gradients that require grad), it is given an Error node instead,
    so that only differentiating it again fails."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .._tensor import Tensor, edge_of
        with no_grad():
            outputs = fn(ctx, *args)
        wanted = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if not (is_grad_enabled() and wanted):
            return outputs
        node = Error(None, tuple(edge_of(a) for a in wanted))
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped, avals = [], []
        for o in outs:
            if isinstance(o, Tensor) and (o.dtype.is_floating_point or o.dtype.is_complex):
                o = o.detach()
                o._grad_fn, o._output_nr = node, len(avals)
                avals.append((tuple(o.shape), o.dtype))
            wrapped.append(o)
        node.out_avals = tuple(avals)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper

