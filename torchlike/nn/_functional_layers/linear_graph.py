"""A recorded F.linear with PyTorch's graph, at close to the cost of one op.

PyTorch's linear is addmm(bias, input, weight.t()) (mm without a bias), with a batch
flattened by a view before and viewed back after (an _unsafe_view without a bias); a
recorded linear must show those nodes: TBackward0, AddmmBackward0 / MmBackward0,
ViewBackward0 / UnsafeViewBackward0. Composing it from the generic t(), view() and
addmm() costs a dispatch, a view's checks and a pending call for each, four times the
host time of one fused op for a batched layer. This module records the very same nodes
and views through the same `record` (so every backward path, hook, saved-tensor check
and `_saved_*` attribute sees what the generic ops would have recorded), but the
layer's output value is one pending call of the fused linear op on the layer's own
input; the intermediate values (the transposed weight, the flattened input, the
flattened output) are pending calls that run only if something reads them (the
node-by-node backward, `_saved_mat2`, a frozen weight's fused replay).
"""
from ... import _jax_bridge as bridge
from ... import _lazy as lazy
from ..._lazy import Deferred
from ..._ops.dispatch import _edges, record, records_history
from ..._ops.linalg import _addprod_op, _matmul_op, addmm, mm
from ..._ops.views import _permute_impl as _permute_op, _reshape_impl as _reshape_op, unsafe_view
from ..._storage import view_strides
from ..._tensor import Tensor

_T_PARAMS = (("dims", (1, 0)),)
_ADDMM_PARAMS = (("beta", 1), ("alpha", 1), ("kind", "addmm"))


def recorded_linear(linear_op, input, weight, bias):
    """linear(input, weight, bias) for a matrix weight, recorded as PyTorch records it;
    linear_op(x, w, b) is the fused op that computes it. Shapes and dtypes are checked."""
    direct = _direct_ok(input, weight, bias)
    if input.ndim == 2:
        return t_then_mm(linear_op, bias, input, weight, direct)
    out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
    if input.ndim == 1 or not (direct and input.is_contiguous()):
        return _generic(input, weight, bias, out_shape)
    flat_shape = (_numel(out_shape[:-1]), input.shape[-1])
    x, w = input._raw(), weight._raw()
    b = None if bias is None else bias._raw()
    device, dtype = weight._storage.device, weight._dtype.np
    flat = _view(input, flat_shape, lazy.defer_known(_reshape_op, (("shape", flat_shape),),
                                                       (x,), device, flat_shape, dtype))
    product = t_then_mm(linear_op, bias, flat, weight, True)
    value = _pending_linear(linear_op, (x, w, b), bias, weight, out_shape)
    if bias is not None:            # addmm's result viewed back: a view (ViewBackward0)
        return _view(product, out_shape, value)
    # mm's result folded back by _unsafe_view: a new tensor, not a view
    out = Tensor._wrap(value, weight._storage.device)
    _record(_reshape_op, (("shape", out_shape),), (product,), out, "UnsafeViewBackward0")
    return out


def t_then_mm(linear_op, bias, mat1, weight, direct):
    """addmm(bias, mat1, weight.t()), or mm(mat1, weight.t()) when bias is None, for a
    matrix mat1; `direct`: record the nodes here (_direct_ok), else run the generic ops."""
    if not direct:
        weight_t = weight.t()
        return mm(mat1, weight_t) if bias is None else addmm(bias, mat1, weight_t)
    device = weight._storage.device
    w, x = weight._raw(), mat1._raw()
    b = None if bias is None else bias._raw()
    sizes, strides = weight._shape, weight.stride()
    t_shape = (sizes[1], sizes[0])
    weight_t = weight._make_view(
        lazy.defer_known(_permute_op, _T_PARAMS, (w,), device, t_shape, weight._dtype.np),
        t_shape, (strides[1], strides[0]), weight._offset)
    if records_history(weight):
        _record(_permute_op, _T_PARAMS, (weight,), weight_t, "TBackward0")
    out = Tensor._wrap(_pending_linear(linear_op, (x, w, b), bias, weight,
                                       (mat1._shape[0], sizes[0])), device)
    if bias is None:
        _record(_matmul_op, (), (mat1, weight_t), out, "MmBackward0")
    else:
        _record(_addprod_op, _ADDMM_PARAMS, (bias, mat1, weight_t), out, "AddmmBackward0")
    return out


def _pending_linear(linear_op, arrays, bias, weight, shape):
    """The pending value of linear_op(x, w, b), shaped `shape`: the arguments passed
    linear's checks, so its dtype is the weight's unless a bias of another dtype
    promotes it (then the shape cache says)."""
    device = weight._storage.device
    if bias is not None and bias._dtype is not weight._dtype:
        return lazy.defer(linear_op, (), arrays, device)
    return lazy.defer_known(linear_op, (), arrays, device, tuple(shape), weight._dtype.np)


def _direct_ok(input, weight, bias):
    """Whether the nodes may be recorded here: values deferred, no JAX trace, one device
    (the generic ops handle the rest, and their errors)."""
    device = weight._storage.device
    return (lazy.ENABLED and bridge.top_level() and input._storage.device is device
            and (bias is None or bias._storage.device is device))


def _view(t, shape, value):
    """t.view(shape) holding the pending `value`, recorded as views.make_view records it."""
    view = t._make_view(value, shape, view_strides(tuple(t.shape), t.stride(), shape), t._offset)
    if records_history(t):
        _record(_reshape_op, (("shape", shape),), (t,), view, "ViewBackward0")
    return view


def _record(op, params, inputs, out, grad_fn):
    # (a view shares its base's version counter: the node's out_versions come out right)
    node = record(op, params, _edges(inputs), tuple([t._raw() for t in inputs]), (out,),
                  grad_fn, inputs)
    value = out._raw()
    if type(value) is Deferred:
        value.node = node       # (which node made it: engine._held_near_roots)


def _generic(input, weight, bias, out_shape):
    """The same composition through the generic ops: a vector or non-contiguous input
    (rare: not worth a direct path), or values that are not deferred (a JAX trace)."""
    weight_t = weight.t()
    if bias is not None and input.is_contiguous():
        return addmm(bias, input.view(-1, input.shape[-1]), weight_t).view(out_shape)
    if input.ndim == 1:
        out = mm(input.unsqueeze(0), weight_t).squeeze_(0)
    else:                          # matmul's fold: mm of the flattened batch, then _unsafe_view
        out = unsafe_view(mm(input.reshape(-1, input.shape[-1]), weight_t), out_shape)
    return out if bias is None else out + bias


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n
