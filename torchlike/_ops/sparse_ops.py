"""Sparse COO tensors, kept simple: a SparseCooTensor is a Tensor whose (dense) value is
scattered from its `values` at its `indices` by a recorded op, so gradients reach the
values through every dense computation, and `indices()`/`values()`/`coalesce()` answer
as PyTorch's. Dense ops accept it (PyTorch refuses many); see docs/design.md."""
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS

from .._layout import sparse_coo as SPARSE_COO


def _scatter_impl(values, indices, *, size):
    dense = jnp.zeros(size, values.dtype)
    at = dense.at[tuple(indices[d] for d in range(indices.shape[0]))]
    return at.max(values) if values.dtype == jnp.bool_ else at.add(values)   # bool sum: any


def _segment_sum_impl(values, inverse, *, count):
    at = jnp.zeros((count,) + values.shape[1:], values.dtype).at[inverse]
    return at.max(values) if values.dtype == jnp.bool_ else at.add(values)


def _gather_impl(dense, indices):
    return dense[tuple(indices[d] for d in range(indices.shape[0]))]


def _alias_impl(x):
    return x


OPS["sparse_coo_scatter"] = _scatter_op = Op("sparse_coo_scatter", _scatter_impl,
                                             "SparseCooTensorWithDimsAndTensorsBackward0")
OPS["sparse_coalesce"] = _coalesce_op = Op("sparse_coalesce", _segment_sum_impl,
                                           "ValuesBackward0")
OPS["sparse_gather"] = _gather_op = Op("sparse_gather", _gather_impl, "ValuesBackward0")
OPS["sparse_alias"] = _alias_op = Op("sparse_alias", _alias_impl, "ToDenseBackward0")


class SparseCooTensor(Tensor):
    """A Tensor with layout torch.sparse_coo (see the module docstring)."""
    is_sparse = True

    @property
    def layout(self):
        return SPARSE_COO

    def indices(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_indices

    def values(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_values

    def _indices(self):
        return self._sp_indices

    def _values(self):
        return self._sp_values

    def _nnz(self):
        return int(self._sp_values.shape[0])

    def is_coalesced(self):
        return self._sp_coalesced

    def sparse_dim(self):
        return int(self._sp_indices.shape[0])

    def dense_dim(self):
        return self._sp_values.dim() - 1

    def coalesce(self):
        if self._sp_coalesced:
            return self
        index = np.asarray(self._sp_indices.numpy())
        linear = np.ravel_multi_index(tuple(index), tuple(self.shape[:index.shape[0]])) \
            if index.size else np.zeros(0, np.int64)
        unique, inverse = np.unique(linear, return_inverse=True)
        new_index = np.stack(np.unravel_index(unique, tuple(self.shape[:index.shape[0]]))) \
            if unique.size else np.zeros((index.shape[0], 0), np.int64)
        from .._factories import tensor
        values = apply(_coalesce_op, (self._sp_values, tensor(inverse.astype(np.int64))),
                       (("count", int(unique.size)),))
        return make_sparse(tensor(new_index.astype(np.int64)), values, tuple(self.shape),
                           coalesced=True, grad_fn="CoalesceBackward0")

    def to_dense(self, dtype=None, *, masked_grad=None):
        dense = apply(_alias_op, (self,))
        return dense if dtype is None else dense.to(dtype)

    def to_sparse(self, *args, **kwargs):
        return self

    def __repr__(self):
        from .._factories import tensor  # noqa: F401  (values printed without history)
        pad = " " * 7
        indices = repr(self._sp_indices).replace("\n", "\n" + " " * 15)
        shown = self._sp_values.detach()
        # the dtype goes in the summary line, not after the values
        values = repr(shown).replace(f", dtype={shown.dtype})", ")")
        values = values.replace("\n", "\n" + " " * 14)
        size = tuple(self.shape)
        tail = f"size={size}, nnz={self._nnz()}"
        if self.dtype is not dt.get_default_dtype() and self.dtype is not dt.int64:
            tail += f", dtype={self.dtype}"
        tail += f", layout={SPARSE_COO}"
        suffix = None
        if self.grad_fn is not None:
            suffix = f"grad_fn=<{self.grad_fn.name()}>"
        elif self.requires_grad:
            suffix = "requires_grad=True"
        if suffix is not None:      # PyTorch wraps a suffix that would pass 80 columns
            fits = len(pad) + len(tail) + len(suffix) + 2 <= 80
            tail += (", " if fits else f",\n{pad}") + suffix
        return f"tensor(indices={indices},\n{pad}values={values},\n{pad}{tail})"

    __str__ = __repr__


def make_sparse(indices, values, size, coalesced=False, requires_grad=False, grad_fn=None):
    dense = apply(_scatter_op, (values, indices), (("size", tuple(size)),), grad_fn)
    if requires_grad:
        dense = dense.detach().requires_grad_(True)
    dense.__class__ = SparseCooTensor
    dense._sp_indices, dense._sp_values, dense._sp_coalesced = indices, values, coalesced
    return dense


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    from .._factories import tensor
    indices = indices if isinstance(indices, Tensor) else tensor(indices)
    values = values if isinstance(values, Tensor) else tensor(values, dtype=dtype)
    if dtype is not None and values.dtype is not dtype:
        values = values.to(dtype)
    if device is not None:
        indices, values = indices.to(device), values.to(device)
    if indices.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    if indices.dtype is not dt.int64:
        indices = indices.long()
    index = np.asarray(indices.numpy())
    if size is None:
        size = tuple(int(m) + 1 for m in index.max(axis=1)) if index.size \
            else (0,) * index.shape[0]
        size = size + tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    sparse_dim, dense_dim = index.shape[0], values.dim() - 1
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError("'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) "
                           f"= {len(size)}, sparse_dim = {sparse_dim}, dense_dim = {dense_dim}")
    coalesced = bool(is_coalesced) if is_coalesced is not None else index.shape[1] <= 1
    return make_sparse(indices, values, size, coalesced, requires_grad)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    if layout not in (None, SPARSE_COO):
        raise NotImplementedError(f"torchlike: to_sparse(layout={layout}) is not implemented; "
                                  "only COO sparse tensors exist")
    from .._factories import tensor
    index = np.stack(np.nonzero(np.asarray(self.detach().numpy())))
    indices = tensor(index.astype(np.int64))
    values = apply(_gather_op, (self, indices))
    return make_sparse(indices, values, tuple(self.shape), coalesced=True,
                       grad_fn="ToSparseBackward1")


FUNCTIONS["sparse_coo_tensor"] = sparse_coo_tensor
METHODS["to_sparse"] = to_sparse
METHODS["to_sparse_coo"] = to_sparse
