"""Products: matmul and its PyTorch spellings (mm, bmm, mv, dot, outer, addmm, einsum,
tensordot, kron ...), plus triangles, diagonals and traces.

Many of these are composites in PyTorch, so the node a user sees is the last step of
PyTorch's composition (UnsafeViewBackward0 for batched matmul, ViewBackward0 for
tensordot ...); each call below names it explicitly.
"""
import jax.numpy as jnp

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import expose, is_float, opmath, require_tensor
from .dispatch import apply
from .registry import Op, OPS
from ._util import check_expand, result_dtype, scalar_name, wrap_dim


def _c_name(d):
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int"}.get(d.name, d.name)


def _same_dtype(a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_name(a.dtype)} != {_c_name(b.dtype)}")


# -- matmul and friends: one jnp.matmul op, named per PyTorch's path -----------------------------
def accumulated_matmul(a, b, **kwargs):
    """a @ b, accumulated in float32 for float16/bfloat16 operands (the product stays in
    float32: its caller rounds it once, as PyTorch's)."""
    low = jnp.promote_types(a.dtype, b.dtype)
    acc = opmath(low)
    if acc == low:
        return jnp.matmul(a, b, **kwargs)
    return jnp.matmul(a, b, preferred_element_type=acc, **kwargs)


def _matmul_impl(a, b):
    return accumulated_matmul(a, b).astype(jnp.promote_types(a.dtype, b.dtype))


OPS["matmul"] = _matmul_op = Op("matmul", _matmul_impl, "MmBackward0", (0, 1))


def _mm(a, b, grad_fn):
    return apply(_matmul_op, (a, b), (), grad_fn)


def _mm_shapes(a, b):
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.numel() // max(a.shape[-1], 1)}"
                           f"x{a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]}x"
                           f"{b.shape[-1] if b.ndim > 1 else 1})")


def matmul(input, other):
    """PyTorch's paths (and their errors): dot, mv, mm (a leading 1-D or N-D input folded
    into a matrix), else a broadcast bmm."""
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{input.ndim}D and {other.ndim}D")
    if input.ndim == 1 and other.ndim == 1:
        return dot(input, other)
    if other.ndim == 1:
        _check_addmv(input.reshape(-1, input.shape[-1]) if input.ndim > 2 else input, other)
        return mv(input, other) if input.ndim == 2 else _mm(input, other, "UnsafeViewBackward0")
    if other.ndim == 2 and input.ndim != 2:
        _mm_shapes(input, other)
        _same_dtype(input, other)
        return _mm(input, other, "SqueezeBackward4" if input.ndim == 1 else "UnsafeViewBackward0")
    if input.ndim == 2 and other.ndim == 2:
        return mm(input, other)
    from ._util import broadcast_shapes
    batch = broadcast_shapes(tuple(input.shape[:-2]), tuple(other.shape[:-2]))
    b = 1
    for n in batch:
        b *= n
    if input.shape[-1] != other.shape[-2]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {input.shape[-1]}] but got: [{b}, {other.shape[-2]}].")
    _bmm_dtypes(input, other)
    # PyTorch folds a matrix that requires grad into the batch and copies the transposed
    # result back (CloneBackward0); every other batched path ends in _unsafe_view
    folded = input.ndim == 2 and other.ndim >= 3 and input.requires_grad
    return _mm(input, other, "CloneBackward0" if folded else "UnsafeViewBackward0")


def _bmm_dtypes(a, b):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {scalar_name(a.dtype)} but found "
                           f"{scalar_name(b.dtype)}")


def mm(input, mat2):
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _mm_shapes(input, mat2)
    _same_dtype(input, mat2)
    return _mm(input, mat2, "MmBackward0")


def bmm(input, mat2):
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if mat2.shape[0] != input.shape[0] or mat2.shape[1] != input.shape[2]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    _bmm_dtypes(input, mat2)
    return _mm(input, mat2, "BmmBackward0")


def _check_addmv(mat, vec, self_shape=None):
    """addmv's checks (mv is addmv into a result of vec's dtype)."""
    self_dim = 1 if self_shape is None else len(self_shape)
    if mat.ndim != 2 or vec.ndim != 1 or self_dim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {self_dim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({mat.shape[0]}), mat ({mat.shape[0]}x"
                           f"{mat.shape[1]}), vec ({vec.shape[0]})")
    if mat.dtype is not vec.dtype:
        raise RuntimeError("addmv input tensors must have the same dtype, but got "
                           f"{scalar_name(vec.dtype)}, {scalar_name(mat.dtype)}, and "
                           f"{scalar_name(vec.dtype)}")


def mv(input, vec):
    _check_addmv(input, vec)
    return _mm(input, vec, "MvBackward0")


def _check_vector_pair(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the "
                           "same number of elements, but got %d and %d elements respectively"
                           % (input.shape[0], other.shape[0], input.shape[0], other.shape[0]))


def dot(input, other):
    if input.ndim == 1 and other.ndim == 1 and input.dtype is not other.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{scalar_name(input.dtype)} and {scalar_name(other.dtype)}")
    _check_vector_pair(input, other)
    return _mm(input, other, "DotBackward0")


def _vdot_impl(a, b):
    return jnp.vdot(a, b)


OPS["vdot"] = _vdot_op = Op("vdot", _vdot_impl, "VdotBackward0", (0, 1))


def vdot(input, other):
    if input.ndim == 1 and other.ndim == 1 and input.dtype is not other.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{scalar_name(input.dtype)} and {scalar_name(other.dtype)}")
    _check_vector_pair(input, other)
    return apply(_vdot_op, (input, other))


def _inner_impl(a, b):
    return jnp.inner(a, b) if a.ndim and b.ndim else a * b


OPS["inner"] = _inner_op = Op("inner", _inner_impl, "ViewBackward0", (0, 1))


def inner(input, other):
    if input.ndim and other.ndim and input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return apply(_inner_op, (input, other), (), None if input.ndim and other.ndim else "MulBackward0")


def _outer_impl(a, b, *, dtype):
    return jnp.outer(a.astype(dtype), b.astype(dtype))


OPS["outer"] = _outer_op = Op("outer", _outer_impl, "MulBackward0", (0, 1))


def outer(input, vec2):
    for arg, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {arg}, but got {t.ndim}-D")
    return apply(_outer_op, (input, vec2), (("dtype", result_dtype(input, vec2).np),))


for _name, _fn, _aliases in [("matmul", matmul, ()), ("mm", mm, ()), ("bmm", bmm, ()),
                             ("mv", mv, ()), ("dot", dot, ()), ("vdot", vdot, ()),
                             ("inner", inner, ()), ("outer", outer, ("ger",))]:
    expose(_name, _fn, aliases=_aliases, inplace=False)


# -- add*: beta * input + alpha * product --------------------------------------------------
def _addprod_impl(c, a, b, *, beta, alpha, kind):
    dtype = jnp.promote_types(c.dtype, jnp.promote_types(a.dtype, b.dtype))
    if kind == "addbmm":
        prod = jnp.sum(accumulated_matmul(a, b), axis=0)
    elif kind == "addr":
        prod = jnp.outer(a, b)
    else:
        prod = accumulated_matmul(a, b)
    if prod.dtype != dtype:         # (float16/bfloat16: added in float32, rounded once)
        c = c.astype(prod.dtype)
    # PyTorch ignores input entirely (nan included) when beta == 0
    out = alpha * prod if beta == 0 else beta * c + alpha * prod
    # Python-number factors must not promote (bool stays bool: an or of ands)
    return out.astype(dtype)


OPS["addmm"] = _addprod_op = Op("addmm", _addprod_impl, "AddmmBackward0", (1, 2))


def _addprod(kind, check):
    node = kind.capitalize() + "Backward0"

    def torch_fn(input, a, b, *, beta=1, alpha=1):
        if kind == "addmm":
            for name, t in (("self", input), ("mat1", a)):
                if t.dtype is not b.dtype:
                    raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                                       f"{scalar_name(t.dtype)} and {scalar_name(b.dtype)}")
        check(a, b)
        check_expand(input, _product_shape(kind, a, b))
        return apply(_addprod_op, (input, a, b), (("beta", beta), ("alpha", alpha),
                                                  ("kind", kind)), node)
    torch_fn.__name__ = kind
    expose(kind, torch_fn)
    return torch_fn


def _product_shape(kind, a, b):
    if kind == "addmm":
        return (a.shape[0], b.shape[1])
    if kind == "addmv":
        return (a.shape[0],)
    if kind == "addr":
        return (a.shape[0], b.shape[0])
    if kind == "addbmm":
        return (a.shape[1], b.shape[2])
    return (a.shape[0], a.shape[1], b.shape[2])


def _check_mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'mat1' if a.ndim != 2 else 'mat2'} must be a matrix, got "
                           f"{a.ndim if a.ndim != 2 else b.ndim}-D tensor")
    _mm_shapes(a, b)
    _same_dtype(a, b)


def _check_mv(a, b):
    _check_addmv(a, b)


def _check_bmm(a, b):
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        bmm(a.detach(), b.detach())


def _check_addbmm(a, b):
    if a.ndim == 3 and b.ndim == 3:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError("batch1 and batch2 must have same number of batches, got "
                               f"{a.shape[0]} and {b.shape[0]}")
        if a.shape[2] != b.shape[1]:
            raise RuntimeError(f"Incompatible matrix sizes for bmm ({a.shape[1]}x{a.shape[2]} and "
                               f"{b.shape[1]}x{b.shape[2]})")
    _check_bmm(a, b)


def _check_vectors(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {a.ndim}-D")


addmm = _addprod("addmm", _check_mm)
addmv = _addprod("addmv", _check_mv)
addr = _addprod("addr", _check_vectors)
addbmm = _addprod("addbmm", _check_addbmm)
baddbmm = _addprod("baddbmm", _check_bmm)


# -- tensordot, kron, einsum, chains -----------------------------------------------------------
def _tensordot_impl(a, b, *, axes):
    return jnp.tensordot(a, b, axes)


OPS["tensordot"] = _tensordot_op = Op("tensordot", _tensordot_impl, "ViewBackward0", (0, 1))


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        named = (tuple(range(-dims, 0)), tuple(range(dims)))       # as PyTorch names them
        axes = (tuple(range(a.ndim - dims, a.ndim)), tuple(range(dims)))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist())
    else:
        da, db = dims
        da = (da,) if isinstance(da, int) else da
        db = (db,) if isinstance(db, int) else db
        axes = (tuple(wrap_dim(d, a.ndim) for d in da), tuple(wrap_dim(d, b.ndim) for d in db))
        named = (tuple(da), tuple(db))
    for i, j, ni, nj in zip(*axes, *named):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {ni} and second has size {b.shape[j]} in dim "
                               f"{nj}")
    result = apply(_tensordot_op, (a, b), (("axes", axes),))
    if out is not None:
        from ._common import write_out
        return write_out("tensordot", out, result)
    return result


expose("tensordot", tensordot, method=False, inplace=False, out=False)


def _kron_impl(a, b):
    if a.dtype == jnp.bool_ and b.dtype == jnp.bool_:     # a bool product is an and
        return jnp.kron(a.astype(jnp.int8), b.astype(jnp.int8)).astype(jnp.bool_)
    return jnp.kron(a, b)


OPS["kron"] = _kron_op = Op("kron", _kron_impl, "UnsafeViewBackward0", (0, 1))


def kron(input, other):
    require_tensor("kron", input, "input", 1)
    require_tensor("kron", other, "other", 2)
    return apply(_kron_op, (input, other))


expose("kron", kron, inplace=False)


def _einsum_impl(*arrays, equation):
    return jnp.einsum(equation, *arrays)


OPS["einsum"] = _einsum_op = Op("einsum", _einsum_impl, "ViewBackward0", ())


def _einsum_node(equation, n):
    """The last step of PyTorch's einsum: a permute for a pure relabelling, a sum for a
    one-operand reduction, a mul when nothing is contracted, else a bmm's view."""
    lhs, _, rhs = equation.replace(" ", "").partition("->")
    inputs = lhs.split(",")
    letters = set("".join(inputs).replace(".", ""))
    if not _:
        rhs = "".join(sorted(c for c in letters if "".join(inputs).count(c) == 1))
    summed = letters - set(rhs)
    if n == 1:
        return "SumBackward1" if summed else "PermuteBackward0"
    if n == 2 and not summed:
        return "MulBackward0"
    return "ViewBackward0"


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    result_dtype(*operands)
    try:
        return apply(_einsum_op, operands, (("equation", equation),),
                     _einsum_node(equation, len(operands)))
    except (ValueError, TypeError) as e:     # JAX's shape checks; PyTorch raises RuntimeError
        raise RuntimeError(f"einsum(): {e}") from None


expose("einsum", einsum, method=False, inplace=False, out=False)


def _chain_impl(*arrays):
    return jnp.linalg.multi_dot(arrays)


OPS["multi_dot"] = _chain_op = Op("multi_dot", _chain_impl, "ViewBackward0", ())


def multi_dot(tensors):
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        if i in (0, len(tensors) - 1) and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must be "
                               f"1D or 2D but got {t.ndim}D")
        if 0 < i < len(tensors) - 1 and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i in range(len(tensors) - 1):
        a, b = tensors[i], tensors[i + 1]
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} "
                               f"and {list(b.shape)} cannot be multiplied")
    return apply(_chain_op, tensors)


def chain_matmul(*matrices):
    return multi_dot(matrices)


expose("chain_matmul", chain_matmul, method=False, inplace=False)


def _cross_impl(a, b, *, dim):
    a, b = jnp.broadcast_arrays(a, b)
    return jnp.cross(a, b, axis=dim)


OPS["cross"] = _cross_op = Op("cross", _cross_impl, "LinalgCrossBackward0", (0, 1))


def linalg_cross(input, other, *, dim=-1):
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    return apply(_cross_op, (input, other), (("dim", d),))


def cross(input, other, dim=None):
    if dim is None:     # the first dim of size 3 (deprecated default)
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


expose("cross", cross, inplace=False)


# -- triangles, diagonals, traces ----------------------------------------------------------
def _tri_impl(a, *, k, upper):
    return jnp.triu(a, k) if upper else jnp.tril(a, k)


OPS["tril"] = _tri_op = Op("tril", _tri_impl, "TrilBackward0", ())


def _tri(name, upper):
    def torch_fn(input, diagonal=0):
        _int_arg(name, "diagonal", 2, diagonal)
        if input.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return apply(_tri_op, (input,), (("k", int(diagonal)), ("upper", upper)),
                     name.capitalize() + "Backward0")
    torch_fn.__name__ = name
    expose(name, torch_fn)
    return torch_fn


tril = _tri("tril", False)
triu = _tri("triu", True)


def _diag_embed_impl(a, *, offset, dim1, dim2):
    n = a.shape[-1] + abs(offset)
    idx = jnp.arange(a.shape[-1])
    rows = idx + max(-offset, 0)
    cols = idx + max(offset, 0)
    out = jnp.zeros(a.shape[:-1] + (n, n), a.dtype).at[..., rows, cols].set(a)
    out_nd = out.ndim
    return jnp.moveaxis(out, (out_nd - 2, out_nd - 1), (dim1, dim2))


OPS["diag_embed"] = _diag_embed_op = Op("diag_embed", _diag_embed_impl, "DiagEmbedBackward0", ())


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_diag_embed_op, (input,), (("offset", int(offset)), ("dim1", d1), ("dim2", d2)))


def _diagonal_copy_impl(a, *, offset):
    return jnp.diagonal(a, offset)


OPS["diagonal_copy"] = _diagonal_copy_op = Op("diagonal_copy", _diagonal_copy_impl,
                                              "DiagonalBackward0_copy", ())


def diag(input, diagonal=0):
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return apply(_diagonal_copy_op, (input,), (("offset", int(diagonal)),))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def _int_arg(fn_name, arg, position, value):
    """PyTorch's argument parser rejects a float where an int is declared."""
    if not isinstance(value, int):
        raise TypeError(f"{fn_name}(): argument '{arg}' (position {position}) must be int, not "
                        f"{type(value).__name__}")


def diagflat(input, offset=0):
    _int_arg("diagflat", "offset", 2, offset)
    return diag_embed(input.reshape(-1), offset, 0, 1)


expose("diag_embed", diag_embed, inplace=False)
expose("diag", diag, inplace=False)
expose("diagflat", diagflat, inplace=False)


def _trace_impl(a, *, dtype):
    return jnp.trace(a).astype(dtype)


OPS["trace"] = _trace_op = Op("trace", _trace_impl, "TraceBackward0", ())


def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    d = input._dtype if is_float(input._dtype) else dt.int64
    return apply(_trace_op, (input,), (("dtype", d.np),))


expose("trace", trace, inplace=False, out=False)


def _tri_indices(name, upper):
    def torch_fn(row, col, offset=0, *, dtype=None, device=None, layout=None):
        import numpy as np
        from .._factories import tensor_from_numpy
        for arg, n in (("row", row), ("col", col)):
            if n < 0:
                raise RuntimeError(f"{arg} must be non-negative, got{n}")
        rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
        return tensor_from_numpy(np.stack([rows, cols]), dtype or dt.int64, device)
    torch_fn.__name__ = name
    expose(name, torch_fn, method=False, inplace=False, out=False)


_tri_indices("tril_indices", False)
_tri_indices("triu_indices", True)
