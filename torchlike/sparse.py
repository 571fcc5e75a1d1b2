"""torchlike.sparse: products and sums of sparse COO tensors (see _ops/sparse_ops.py)."""
from ._ops.sparse_ops import SparseCooTensor

__all__ = ["mm", "sum", "addmm"]


def _renamed(tensor, grad_fn):
    from .nn._functional_layers._common import renamed
    return renamed(tensor, grad_fn) if tensor.grad_fn is not None else tensor


def mm(mat1, mat2):
    return _renamed(mat1 @ mat2, "SparseAddmmBackward0")


def addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0):
    return _renamed(beta * input + alpha * (mat1 @ mat2), "SparseAddmmBackward0")


def sum(input, dim=None, dtype=None):
    """Full sum: a dense 0-dim tensor; over some dims: a sparse tensor of the rest."""
    if dim is None:      # a plain sum, as PyTorch (SumBackward0)
        return input.sum(dtype=dtype) if dtype is not None else input.sum()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    total = input.sum(dims) if dtype is None else input.sum(dims, dtype=dtype)
    return _renamed(total, "SparseSumBackward0") if total.dim() == 0 or not isinstance(
        input, SparseCooTensor) else total.to_sparse()
