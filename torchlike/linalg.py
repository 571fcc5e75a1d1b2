"""torch.linalg: the linear-algebra namespace (implementations in _ops/decomp.py and
_ops/linalg.py)."""
from ._ops._common import with_out as _with_out
from ._ops.decomp import LINALG as _LINALG, LinAlgError
from ._ops.linalg import linalg_cross, matmul as _matmul, multi_dot as _multi_dot
from ._ops.views import diagonal as _diagonal

# every torch.linalg function but diagonal takes out=
globals().update({name: _with_out("linalg." + name, fn) for name, fn in _LINALG.items()})
cross = _with_out("linalg.cross", linalg_cross)
multi_dot = _with_out("linalg.multi_dot", _multi_dot)
matmul = _with_out("linalg.matmul", _matmul)      # torch.linalg.matmul: torch.matmul's alias


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return _diagonal(A, offset, dim1, dim2)


def _vecdot(x, y, *, dim=-1):
    """sum(x.conj() * y, dim), composed as PyTorch does (a SumBackward1 node)."""
    from ._ops.pointwise import mul
    from ._ops.reduce import sum
    return sum(mul(x.conj() if x.is_complex() else x, y), dim)


vecdot = _with_out("linalg.vecdot", _vecdot)


__all__ = sorted(list(_LINALG) + ["cross", "matmul", "multi_dot", "diagonal", "vecdot", "LinAlgError"])
