"""Oracle samples for products and linear algebra (see core.py)."""
from .core import D, E, L, OpInfo, S, T


def _spd(*shape, dtype="f64"):
    return T(*shape, dtype=dtype, low=-1, high=1, kind="spd")


def _wc(*shape, dtype="f64"):
    return T(*shape, dtype=dtype, low=-1, high=1, kind="wellcond")


# -- products -----------------------------------------------------------------------------
OpInfo("matmul", [S(T(2, 3), T(3, 4)), S(T(3), T(3)), S(T(2, 3), T(3)), S(T(3), T(3, 2)),
                  S(T(2, 2, 3), T(3, 4)), S(T(2, 2, 3), T(2, 3, 4)), S(T(2, 1, 2, 3), T(3, 3, 2)),
                  S(T(3, dtype="f64"), T(2, 3, 4, dtype="f64")), S(T(2, 3, dtype="i64"), T(3, 2, dtype="i64")),
                  S(T(0, 3), T(3, 2))],
       errors=[E(T(2, 3), T(4, 2)), E(T(3), T()), E(T(2, 3), T(3, 2, dtype="f64"))])
OpInfo("mm", [S(T(2, 3), T(3, 4)), S(T(2, 3, dtype="f64"), T(3, 1, dtype="f64"))],
       errors=[E(T(2, 3), T(4, 2)), E(T(3), T(3, 2))])
OpInfo("bmm", [S(T(2, 2, 3), T(2, 3, 4))], errors=[E(T(2, 3), T(3, 2)), E(T(2, 2, 3), T(3, 3, 4), msg=False)])
OpInfo("mv", [S(T(2, 3), T(3))], errors=[E(T(2, 3), T(2))])
OpInfo("dot", [S(T(3), T(3)), S(T(4, dtype="i64"), T(4, dtype="i64"))],
       errors=[E(T(3), T(4)), E(T(2, 3), T(3)), E(T(3), T(3, dtype="f64"))])
OpInfo("vdot", [S(T(3), T(3)), S(T(3, dtype="f64"), T(3, dtype="f64"))])
OpInfo("inner", [S(T(3), T(3)), S(T(2, 3), T(4, 3)), S(T(3), T()), S(T(2, 3), T(3))])
OpInfo("outer", [S(T(3), T(2)), S(T(3, dtype="i64"), T(2))], aliases=("ger",))
OpInfo("addmm", [S(T(2, 4), T(2, 3), T(3, 4)), S(T(4), T(2, 3), T(3, 4), beta=0.5, alpha=2.0),
                 S(T(2, 4, dtype="f64"), T(2, 3, dtype="f64"), T(3, 4, dtype="f64"), beta=0)])
OpInfo("addmv", [S(T(2), T(2, 3), T(3)), S(T(1), T(2, 3), T(3), beta=2, alpha=0.5)])
OpInfo("addbmm", [S(T(2, 4), T(3, 2, 3), T(3, 3, 4)), S(T(2, 4), T(3, 2, 3), T(3, 3, 4), alpha=2)])
OpInfo("baddbmm", [S(T(3, 2, 4), T(3, 2, 3), T(3, 3, 4)), S(T(2, 4), T(3, 2, 3), T(3, 3, 4), beta=0.5)])
OpInfo("addr", [S(T(3, 2), T(3), T(2)), S(T(3, 2), T(3), T(2), beta=2, alpha=0.5)])
OpInfo("tensordot", [S(T(2, 3, 4), T(3, 4, 2)), S(T(2, 3), T(3, 2), dims=1),
                     S(T(2, 3, 4), T(4, 3), dims=([1, 2], [1, 0])), S(T(2, 3), T(4, 5), dims=0)])
OpInfo("kron", [S(T(2, 3), T(2, 2)), S(T(2), T(3, 2))])
OpInfo("einsum", [S("ij,jk->ik", T(2, 3), T(3, 4)), S("bij,bjk", T(2, 2, 3), T(2, 3, 4)),
                  S("ii->i", T(3, 3)), S("i,j->ij", T(2), T(3)), S("...ij->...ji", T(2, 3, 4)),
                  S("ij->", T(2, 3)), S("ij,ij->i", [T(2, 3), T(2, 3)])])
OpInfo("chain_matmul", [S(T(2, 3), T(3, 4), T(4, 2))])
OpInfo("linalg.multi_dot", [S([T(2, 3), T(3, 4), T(4, 2)]), S([T(3), T(3, 4), T(4)])])
OpInfo("cross", [S(T(2, 3), T(2, 3)), S(T(3, 2), T(3, 2), dim=0), S(T(3), T(3))])
OpInfo("linalg.cross", [S(T(2, 3), T(2, 3)), S(T(3, 2), T(3, 2), dim=0), S(T(2, 3), T(3))])
OpInfo("linalg.vecdot", [S(T(2, 3), T(2, 3)), S(T(3, 2), T(3, 2), dim=0)])

# -- triangles, diagonals, traces ---------------------------------------------------------
for _name in ("tril", "triu"):
    OpInfo(_name, [S(T(3, 4)), S(T(3, 4), 1), S(T(2, 3, 3), -1), S(T(3, 3, dtype="i64"))],
           errors=[E(T(3))])
OpInfo("diag", [S(T(3)), S(T(3), 1), S(T(3, 4)), S(T(3, 4), -1), S(T(3, dtype="i64"))],
       errors=[E(T(2, 2, 2))])
OpInfo("diag_embed", [S(T(3)), S(T(2, 3), 1), S(T(2, 3), -1, 0, 2)])
OpInfo("diagflat", [S(T(3)), S(T(2, 2), 1)])
OpInfo("trace", [S(T(3, 3)), S(T(2, 4)), S(T(3, 3, dtype="i32"))], errors=[E(T(3))])
OpInfo("tril_indices", [S(3, 3), S(4, 3, 1), S(3, 4, -1)], variants=("function",), grad=False)
OpInfo("triu_indices", [S(3, 3), S(4, 3, 1), S(3, 4, -1)], variants=("function",), grad=False)

# -- torch.linalg and the older torch.* spellings --------------------------------------------
_NOT_SQUARE = E(T(2, 3, dtype="f64"))
# (ord=0 has no gradient in PyTorch (.grad stays None); torchlike's is 0, not compared)
OpInfo("linalg.vector_norm", [S(T(2, 3)), S(T(2, 3), 1), S(T(2, 3), float("inf"), 1),
                              S(T(2, 3), float("-inf")), S(T(2, 3, grad=False), 0),
                              S(T(2, 3), 3.5, (0, 1), True),
                              S(T(2, 3, dtype="f64"), dim=-1, keepdim=True), S(T(3), dtype=D("f64")),
                              S(L([0.0, 0.0])), S(L([1.0, -3.0, 3.0]), float("inf"))],
       errors=[E(T(3, dtype="i64"))])
OpInfo("linalg.matrix_norm", [S(T(2, 3)), S(T(2, 3), "nuc"), S(T(2, 3), 2), S(T(2, 3), -2),
                              S(T(2, 3), 1), S(T(2, 3), -1), S(T(2, 3), float("inf")),
                              S(T(2, 2, 3, dtype="f64"), "fro", (0, 2), keepdim=True),
                              S(T(2, 3), 1, keepdim=True)])
OpInfo("linalg.norm", [S(T(2, 3)), S(T(2, 3), 1), S(T(3), 3), S(T(2, 3), "fro"),
                       S(T(2, 3, 2), None, (0, 2)), S(T(2, 3), 2, 1)])
OpInfo("linalg.solve", [S(_wc(3, 3), T(3, 2, dtype="f64")), S(_wc(3, 3), T(3, dtype="f64")),
                        S(_wc(2, 3, 3), T(2, 3, 1, dtype="f64")), S(_wc(3, 3), T(2, 3, dtype="f64"), left=False)],
       errors=[E(L([[1.0, 2.0], [2.0, 4.0]]), L([1.0, 1.0])), E(T(2, 3, dtype="f64"), T(2, dtype="f64"))])
OpInfo("linalg.inv", [S(_wc(3, 3)), S(_wc(2, 2, 2)), S(_wc(3, 3, dtype="f32"))],
       errors=[E(L([[1.0, 2.0], [2.0, 4.0]])), E(T(3, 3, dtype="i64")), _NOT_SQUARE])
OpInfo("inverse", [S(_wc(3, 3))])
for _name in ("linalg.det", "det", "linalg.slogdet", "slogdet"):
    OpInfo(_name, [S(_wc(3, 3)), S(_wc(2, 2, 2)), S(T(2, 2, dtype="f64"))],
           errors=[_NOT_SQUARE])
OpInfo("logdet", [S(_spd(3, 3)), S(L([[1.0, 2.0], [3.0, 1.0]], "f64"))])
OpInfo("linalg.cholesky", [S(_spd(3, 3)), S(_spd(2, 3, 3)), S(_spd(3, 3), upper=True)],
       errors=[E(L([[-1.0, 0.0], [0.0, 1.0]]))])
OpInfo("cholesky", [S(_spd(3, 3)), S(_spd(3, 3), upper=True)])
OpInfo("linalg.qr", [S(T(3, 2, dtype="f64")), S(T(2, 3, dtype="f64")), S(T(3, 2, dtype="f64"), "complete"),
                     S(T(2, 3, 2, dtype="f64"), mode="r")])
OpInfo("qr", [S(T(3, 2, dtype="f64")), S(T(3, 2, dtype="f64"), some=False)])
OpInfo("linalg.svd", [S(T(3, 2, dtype="f64"), full_matrices=False), S(T(3, 3, dtype="f64"))])
OpInfo("svd", [S(T(3, 2, dtype="f64")), S(T(3, 2, dtype="f64"), some=False)])
# Wide matrices: PyTorch's LAPACK path gives other, equally valid, signs of the singular
# vectors than JAX's; compare what does not depend on the signs (|U|, S, |Vh|).
OpInfo("linalg.svd (wide)", [S(T(2, 3, dtype="f64")), S(T(2, 4, dtype="f64"), full_matrices=False)],
       op=lambda lib, a, **kw: tuple(t.abs() if i != 1 else t
                                     for i, t in enumerate(lib.linalg.svd(a, **kw))),
       covers=("torch.linalg.svd",))
OpInfo("linalg.svdvals", [S(T(3, 2, dtype="f64")), S(T(2, 2, 3))])
OpInfo("linalg.eigh", [S(_spd(3, 3)), S(_spd(3, 3), UPLO="U")])
OpInfo("linalg.eigvalsh", [S(_spd(3, 3)), S(_spd(2, 3, 3, dtype="f32"))])
OpInfo("linalg.pinv", [S(T(3, 2, dtype="f64")), S(T(2, 3))])
OpInfo("pinverse", [S(T(3, 2, dtype="f64"))])
OpInfo("linalg.lstsq", [S(T(3, 2, dtype="f64"), T(3, 1, dtype="f64")), S(T(3, 2, dtype="f64"), T(3, 4, dtype="f64"))])
for _name in ("linalg.matrix_power", "matrix_power"):
    OpInfo(_name, [S(T(3, 3), 3), S(T(3, 3), 2), S(T(3, 3), 1), S(T(3, 3), 0), S(_wc(3, 3), -1),
                   S(_wc(3, 3), -2), S(T(2, 3, 3), 3)])
OpInfo("linalg.matrix_rank", [S(T(3, 3)), S(L([[1.0, 2.0], [2.0, 4.0]]))], grad=False)
OpInfo("linalg.matrix_exp", [S(T(3, 3, dtype="f64", low=-0.5, high=0.5))])
OpInfo("matrix_exp", [S(T(2, 2, dtype="f64", low=-0.5, high=0.5))])
OpInfo("linalg.solve_triangular", [S(_wc(3, 3), T(3, 2, dtype="f64"), upper=False),
                                   S(_wc(3, 3), T(2, 3, dtype="f64"), upper=True, left=False)])
OpInfo("linalg.diagonal", [S(T(3, 3)), S(T(2, 3, 4), offset=1)])

# -- invalid calls: PyTorch's exception class (and message, unless msg=False) ---------------
_ERRORS = [
    ("vdot", E(T(3), T(4))), ("vdot", E(T(2, 3), T(2, 3))), ("inner", E(T(2, 3), T(4))),
    ("outer", E(T(2, 3), T(2))), ("outer", E(T(3), T(2, 2))),
    ("addmm", E(T(2, 4), T(2, 3), T(4, 4))), ("addmm", E(T(3, 3), T(2, 3), T(3, 4), msg=False)),
    ("addmv", E(T(2), T(2, 3), T(4))), ("addbmm", E(T(2, 4), T(3, 2, 3), T(2, 3, 4))),
    ("addbmm", E(T(2, 4), T(3, 2, 3), T(3, 4, 4))),
    ("baddbmm", E(T(3, 2, 4), T(3, 2, 3), T(3, 4, 4))), ("addr", E(T(3, 2), T(3, 1), T(2))),
    ("tensordot", E(T(2, 3), T(4, 2), dims=1)), ("tensordot", E(T(2, 3), T(4, 2), dims=([-1], [-2]))),
    ("kron", E(T(2), 3.0)),
    ("einsum", E("ij,jk->ik", T(2, 3), T(4, 5), msg=False)), ("einsum", E("ij->k", T(2, 3), msg=False)),
    ("chain_matmul", E(T(2, 3), T(4, 2))), ("linalg.multi_dot", E([T(2, 3)])),
    ("linalg.multi_dot", E([T(2, 3), T(4, 2)])), ("linalg.multi_dot", E([T(2, 3, 4), T(4, 2)])),
    ("linalg.multi_dot", E([T(3, 4), T(4), T(2)])),
    ("cross", E(T(2, 3), T(2, 4))), ("cross", E(T(2, 2), T(2, 2))),
    ("linalg.cross", E(T(2, 4), T(2, 4))), ("linalg.vecdot", E(T(3), T(4), msg=False)),
    ("diag_embed", E(T(3), 0, 0, 0)), ("diagflat", E(T(3), 1.5)), ("tril", E(T(3, 3), 1.5)),
    ("diag", E(T(2, 2), 1, 2)), ("tril_indices", E(-1, 3)), ("triu_indices", E(3, -1)),
    ("linalg.matrix_norm", E(T(3))), ("linalg.matrix_norm", E(T(2, 3), 3)),
    ("linalg.matrix_norm", E(T(2, 3, dtype="i64"))),
    ("linalg.matrix_norm", E(T(2, 3, 4), dim=(0, 1, 2))),
    ("linalg.norm", E(T(2, 3, 4), "fro")), ("linalg.norm", E(T(3), "fro", msg=False)),
    ("linalg.vector_norm", E(T(2, 3), 2, 2)),
    ("inverse", _NOT_SQUARE), ("logdet", E(T(2, 3))), ("logdet", E(T(3, 3, dtype="i64"))),
    ("cholesky", E(T(2, 3))), ("linalg.cholesky", E(T(2, 3))), ("linalg.cholesky", E(T(3))),
    ("linalg.qr", E(T(3))), ("linalg.qr", E(T(3, 2), mode="foo")), ("linalg.qr", E(T(3, 3, dtype="i64"))),
    ("qr", E(T(3))), ("linalg.svd", E(T(3))), ("linalg.svd", E(T(3, 3, dtype="i64"))), ("svd", E(T(3))),
    ("linalg.svdvals", E(T(3))), ("linalg.eigh", E(T(2, 3))), ("linalg.eigh", E(T(3, 3), UPLO="X")),
    ("linalg.eigvalsh", E(T(2, 3))), ("linalg.eigvalsh", E(T(3, 3), UPLO="X")),
    ("linalg.pinv", E(T(3))), ("linalg.pinv", E(T(3, dtype="i64"))), ("pinverse", E(T(3))),
    ("linalg.lstsq", E(T(3, 2), T(4, 1))), ("linalg.lstsq", E(T(3, 2), T(4))),
    ("linalg.lstsq", E(T(3), T(3))), ("linalg.lstsq", E(T(3, 2), T(3, dtype="f64"))),
    ("linalg.matrix_power", E(T(2, 3), 2)), ("matrix_power", E(T(3), 2)),
    ("linalg.matrix_power", E(L([[1.0, 2.0], [2.0, 4.0]]), -1)),
    ("linalg.matrix_rank", E(T(3))), ("linalg.matrix_exp", E(T(2, 3))), ("matrix_exp", E(T(3))),
    ("linalg.solve_triangular", E(T(3, 3), T(4, 2), upper=True)),
    ("linalg.solve_triangular", E(T(3, 3), T(2, 4), upper=True, left=False)),
    ("linalg.solve_triangular", E(T(2, 3), T(2, 2), upper=False)),
    ("linalg.solve_triangular", E(T(3, 3), T(3), upper=False)),
    ("linalg.solve", E(T(3, 3), T(4))), ("linalg.solve", E(T(3, 3), T(4, 2))),
    ("linalg.solve", E(T(3, 3), T(2, 4), left=False)),
    ("linalg.diagonal", E(T(3))), ("linalg.det", E(T(3, 3, dtype="i64"))),
    ("linalg.inv", E(T(3))), ("linalg.slogdet", E(T(3))), ("det", E(T(3))),
    ("trace", E(T(2, 3, 4))), ("mm", E(T(2, 3, dtype="i64"), T(3, 2))),
    ("mv", E(T(3), T(3), msg=False)), ("matmul", E(T(), T(3))),
]
for _name, _error in _ERRORS:
    OpInfo(_name, errors=[_error])

# -- edge shapes and dtypes the tables above leave out --------------------------------------
OpInfo("mm", [S(T(0, 3), T(3, 2)), S(T(2, 3, dtype="i64"), T(3, 2, dtype="i64"))])
OpInfo("bmm", [S(T(2, 2, 3, dtype="f64"), T(2, 3, 0, dtype="f64"))])
OpInfo("mv", [S(T(2, 3, dtype="f64"), T(3, dtype="f64")), S(T(0, 3), T(3))])
OpInfo("dot", [S(T(0), T(0)), S(T(3, dtype="f64"), T(3, dtype="f64"))])
OpInfo("outer", [S(T(3, dtype="f64"), T(0, dtype="f64"))])
OpInfo("addmm", [S(T(), T(2, 3), T(3, 4))])
OpInfo("einsum", [S("i,i->", T(3, dtype="f64"), T(3, dtype="f64"))])
OpInfo("kron", [S(T(2, dtype="i64"), T(2, dtype="i64")), S(T(), T(2, 2))])
OpInfo("cross", [S(T(2, 3, dtype="f64"), T(3, dtype="f64"), -1)])
for _name in ("tril", "triu"):
    OpInfo(_name, [S(T(2, 3, dtype="f64"), -5), S(T(0, 3), 0)])
OpInfo("diag", [S(T(0)), S(T(3, 3, dtype="f64"), 5)])
OpInfo("trace", [S(T(0, 0)), S(T(3, 3, dtype="f64"))])
OpInfo("linalg.inv", [S(T(0, 3, 3, dtype="f64"))])
OpInfo("linalg.det", [S(T(0, 2, 2, dtype="f64"))])
OpInfo("linalg.vector_norm", [S(T()), S(T(0, 3), 2, 1)])
OpInfo("linalg.matrix_norm", [S(T(0, 2, 3), "fro")])
