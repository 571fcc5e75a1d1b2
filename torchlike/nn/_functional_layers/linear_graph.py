"""Recording `addmm(bias, mat1, weight.t())` (`mm` without a bias) for F.linear cheaply.

A recorded linear must show PyTorch's graph: a TBackward0 node for weight.t(), then
AddmmBackward0 (MmBackward0) on it. Running t() and addmm() through the generic op path
costs two dispatches, a view's bookkeeping and two pending calls per layer; a recorded
MLP step paid about a third more host time in its forward for it. This module records
the very same nodes (so every backward path, hook, saved-tensor check and
`_saved_*` attribute sees what t() and addmm() would have recorded) with one pending
call for the product: the output's value is the fused linear op of (mat1, weight, bias).
The transposed weight's value is a pending call too, computed only if something reads
it (the node-by-node backward, `_saved_mat2`, a frozen weight's fused replay).
"""
from ... import _jax_bridge as bridge
from ... import _lazy as lazy
from ..._ops.dispatch import _edges, record
from ..._ops.linalg import _addprod_op, _matmul_op, addmm, mm
from ..._ops.views import _permute_impl as _permute_op
from ..._tensor import Tensor

_T_PARAMS = (("dims", (1, 0)),)
_ADDMM_PARAMS = (("beta", 1), ("alpha", 1), ("kind", "addmm"))


def t_then_mm(linear_op, bias, mat1, weight):
    """addmm(bias, mat1, weight.t()), or mm(mat1, weight.t()) when bias is None; mat1 and
    weight are matrices whose shapes, dtypes and the bias's shape linear has checked."""
    device = weight._storage.device
    if (not lazy.ENABLED or not bridge.top_level() or mat1._storage.device is not device
            or (bias is not None and bias._storage.device is not device)):
        # (inside a JAX trace, or across devices: the generic ops handle those)
        weight_t = weight.t()
        return mm(mat1, weight_t) if bias is None else addmm(bias, mat1, weight_t)
    w, x = weight._raw(), mat1._raw()
    b = None if bias is None else bias._raw()
    weight_t = _transposed_view(weight, w, device)
    out = Tensor._wrap(lazy.defer(linear_op, (), (x, w, b), device), device)
    if bias is None:
        inputs = (mat1, weight_t)
        record(_matmul_op, (), _edges(inputs), (x, weight_t._raw()), (out,), "MmBackward0",
               inputs)
    else:
        inputs = (bias, mat1, weight_t)
        record(_addprod_op, _ADDMM_PARAMS, _edges(inputs), (b, x, weight_t._raw()), (out,),
               "AddmmBackward0", inputs)
    return out


def _transposed_view(weight, w, device):
    """weight.t(): a view of weight's storage, with its TBackward0 node if weight
    requires grad (as views.make_view records it)."""
    sizes, strides = weight.shape, weight.stride()
    view = weight._make_view(lazy.defer(_permute_op, _T_PARAMS, (w,), device),
                             (sizes[1], sizes[0]), (strides[1], strides[0]), weight._offset)
    if weight._grad_fn is not None or weight._requires_grad or (
            weight._base is not None and weight.requires_grad):
        # the view shares weight's version counter, so the node's out_versions are right
        record(_permute_op, _T_PARAMS, _edges((weight,)), (w,), (view,), "TBackward0", (weight,))
    return view
