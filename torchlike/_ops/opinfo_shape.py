"""Oracle samples for shape, view, indexing and scatter ops (see opinfo.py)."""
from .opinfo import D, E, L, OpInfo, S, T


def _idx(*values):
    return L(list(values), "i64")


# -- joining and splitting ------------------------------------------------------------------------
OpInfo("cat", [S([T(2, 3), T(1, 3)]), S([T(2, 3), T(2, 1)], 1), S([T(2), T(0), T(3)]),
               S([T(2, 3), T(2, 3, dtype="f64")], -1), S((T(2), T(2, dtype="i64")))],
       aliases=("concat", "concatenate"),
       errors=[E([T(2, 3), T(2, 4)]), E([T(), T()]), E([])])
OpInfo("stack", [S([T(2, 3), T(2, 3)]), S([T(2), T(2)], 1), S([T(3), T(3)], -1)],
       errors=[E([T(2), T(3)])])
OpInfo("hstack", [S([T(2, 3), T(2, 1)]), S([T(3), T(2)]), S([T(), T()])])
OpInfo("vstack", [S([T(3), T(3)]), S([T(2, 3), T(1, 3)])], aliases=("row_stack",))
OpInfo("dstack", [S([T(2, 3), T(2, 3)]), S([T(3), T(3)])])
OpInfo("column_stack", [S([T(3), T(3, 2)]), S([T(), T()])])
OpInfo("tensor_split", [S(T(5), 3), S(T(5), [1, 3]), S(T(2, 6), 4, 1), S(T(4), L([1, 2], "i64"))])
OpInfo("split", [S(T(5), 2), S(T(5, 2), [1, 4]), S(T(2, 5), 3, 1)])
OpInfo("chunk", [S(T(5), 2), S(T(2, 6), 3, -1)])
OpInfo("unbind", [S(T(2, 3)), S(T(2, 3), 1)])
OpInfo("hsplit", [S(T(2, 4), 2), S(T(6), [2, 3])], errors=[E(T(2, 3), 2)])
OpInfo("vsplit", [S(T(4, 2), 2), S(T(4, 2), [1])])
OpInfo("dsplit", [S(T(2, 2, 4), 2)])

# -- views (implemented in views.py) --------------------------------------------------------------
OpInfo("view", [S(T(2, 3), 3, 2), S(T(2, 3), -1), S(T(6), (2, -1))], errors=[E(T(2, 3), 4)])
OpInfo("reshape", [S(T(2, 3), (3, 2)), S(T(2, 3), -1), S(T(), (1,))], errors=[E(T(2, 3), (4, -1))])
OpInfo("view_as", [S(T(6), T(2, 3))])
OpInfo("reshape_as", [S(T(6), T(3, 2))])
OpInfo("flatten", [S(T(2, 3, 2)), S(T(2, 3, 2), 1), S(T())])
OpInfo("unflatten", [S(T(6), 0, (2, 3)), S(T(2, 6), -1, (3, -1))])
OpInfo("ravel", [S(T(2, 3))])
OpInfo("squeeze", [S(T(2, 1, 3)), S(T(2, 1, 3), 1), S(T(1, 3, 1), (0, 2)), S(T(2, 3), 0)])
OpInfo("unsqueeze", [S(T(2, 3), 0), S(T(2, 3), -1), S(T(), 0)])
OpInfo("permute", [S(T(2, 3, 4), (2, 0, 1)), S(T(2, 3, 4), 1, 2, 0)], errors=[E(T(2, 3), (0,))])
OpInfo("transpose", [S(T(2, 3), 0, 1), S(T(2, 3, 4), -1, 0)], aliases=("swapaxes", "swapdims"))
OpInfo("t", [S(T(2, 3)), S(T(3))], errors=[E(T(2, 3, 4))])
OpInfo("adjoint", [S(T(2, 3))])
OpInfo("movedim", [S(T(2, 3, 4), 0, -1), S(T(2, 3, 4), (0, 1), (2, 0))], aliases=("moveaxis",))
OpInfo("narrow", [S(T(5), 0, 1, 2), S(T(2, 5), -1, 2, 3)], errors=[E(T(5), 0, 3, 4)])
OpInfo("select", [S(T(2, 3), 0, 1), S(T(2, 3), 1, -1)], errors=[E(T(2, 3), 0, 2)])
OpInfo("expand", [S(T(3, 1), 3, 2), S(T(3), (2, 3)), S(T(3, 1), -1, 4)], errors=[E(T(3), 2)])
OpInfo("expand_as", [S(T(3, 1), T(3, 2))])
OpInfo("broadcast_to", [S(T(3, 1), (2, 3, 2))])
OpInfo("diagonal", [S(T(3, 3)), S(T(3, 4), 1), S(T(2, 3, 3), 0, 1, 2), S(T(3, 3), -1)])
OpInfo("unfold", [S(T(6), 0, 2, 1), S(T(2, 5), 1, 2, 2)])
OpInfo("T", [S(T(2, 3))], op=lambda lib, x: x.T, covers=("Tensor.T",))
OpInfo("mT", [S(T(2, 2, 3))], op=lambda lib, x: x.mT, covers=("Tensor.mT",))
OpInfo("clone", [S(T(2, 3)), S(T(3, dtype="i64"))])
OpInfo("contiguous", [S(T(2, 3))], op=lambda lib, x: x.t().contiguous(),
       covers=("Tensor.contiguous",))

# -- rearranging ----------------------------------------------------------------------------------
OpInfo("flip", [S(T(2, 3), (0,)), S(T(2, 3), (0, 1)), S(T(2, 3), -1)])
OpInfo("fliplr", [S(T(2, 3))])
OpInfo("flipud", [S(T(2, 3))])
OpInfo("roll", [S(T(2, 3), 1), S(T(2, 3), (1, 2), (0, 1)), S(T(5), -2, 0)])
OpInfo("rot90", [S(T(2, 3)), S(T(2, 3), 2), S(T(2, 3), -1), S(T(2, 3, 2), 1, (1, 2))])
OpInfo("repeat", [S(T(2, 3), 2, 1), S(T(3), (2, 2)), S(T(), 3)], errors=[E(T(2, 3), 2)])
OpInfo("tile", [S(T(2, 3), (2,)), S(T(3), (2, 2))])
OpInfo("repeat_interleave", [S(T(2, 3), 2), S(T(2, 3), 2, dim=0), S(T(3), L([1, 2, 0], "i64")),
                             S(L([1, 2], "i64"))])
OpInfo("broadcast_tensors", [S(T(2, 1), T(3)), S(T(), T(2, 2))])
OpInfo("atleast_1d", [S(T()), S(T(2)), S(T(), T(2, 2))])
OpInfo("atleast_2d", [S(T()), S(T(3)), S(T(2, 3))])
OpInfo("atleast_3d", [S(T()), S(T(3)), S(T(2, 3))])
OpInfo("meshgrid", [S(T(2), T(3), indexing="ij"), S(T(2), T(3), indexing="xy"),
                    S([T(2), T(3), T(2)], indexing="ij")])
OpInfo("cartesian_prod", [S(T(2), T(3)), S(T(2))])
OpInfo("combinations", [S(T(4)), S(T(4), 3), S(T(3), with_replacement=True)])
OpInfo("diff", [S(T(5)), S(T(2, 5), 2), S(T(5), prepend=T(2)), S(T(2, 4), dim=0, append=T(1, 4)),
                S(L([True, False, False]))])
OpInfo("cdist", [S(T(2, 3), T(4, 3)), S(T(2, 3), T(4, 3), 1.0), S(T(2, 2, 3), T(2, 4, 3), 3.0),
                 S(L([[0.0, 1.0]]), L([[0.0, 1.0], [1.0, 1.0]]))],
       errors=[E(T(2, 3), T(2, 4))])

# -- indexing (getitem/setitem and friends live in indexing.py) -------------------------------------
OpInfo("getitem", [S(T(4, 3), 1), S(T(4, 3), (slice(1, 3), -1)), S(T(4, 3), (Ellipsis, None)),
                   S(T(4, 3), _idx(0, 2, 2)), S(T(4, 3), (_idx(0, 1), _idx(2, 0))),
                   S(T(4, 3), L([True, False, True, False])), S(T(4, 3), T(4, 3, dtype="b"))],
       op=lambda lib, x, i: x[i], covers=("Tensor.__getitem__",))
OpInfo("setitem", [S(T(4, 3), 1, T(3)), S(T(4, 3), (slice(0, 2), 0), 2.5),
                   S(T(4, 3), _idx(0, 2), T(2, 3)), S(T(4, 3), L([True, False, True, False]), 0.0)],
       op=lambda lib, x, i, v: _setitem(x, i, v), covers=("Tensor.__setitem__",))


def _setitem(x, index, value):
    x = x.clone()
    x[index] = value
    return x


OpInfo("gather", [S(T(3, 4), 1, L([[0, 1], [2, 3], [1, 1]], "i64")), S(T(3, 4), 0, L([[0, 2, 1, 0]], "i64"))],
       errors=[E(T(3, 4), 1, L([[0.0, 1.0]]), msg=False)])
OpInfo("index_select", [S(T(3, 4), 0, _idx(0, 2)), S(T(3, 4), -1, _idx(3, 3, 0))],
       errors=[E(T(3), 0, _idx(5))])
OpInfo("masked_fill", [S(T(2, 3), L([True, False, True]), 0.5), S(T(3), T(3, dtype="b"), T())],
       errors=[E(T(3), T(3), 0.0)])
OpInfo("masked_select", [S(T(2, 3), L([True, False, True])), S(T(3), T(2, 3, dtype="b"))])
OpInfo("nonzero", [S(L([[0.0, 1.0], [2.0, 0.0]])), S(L([0, 3, 0, 1], "i64")),
                   S(L([[0.0, 1.0], [2.0, 0.0]]), as_tuple=True)], grad=False)
OpInfo("argwhere", [S(L([[0.0, 1.0], [2.0, 0.0]]))], grad=False)
OpInfo("index_put", [S(T(4, 3), (_idx(0, 2),), T(2, 3)), S(T(4, 3), (_idx(0, 1), _idx(2, 2)), T(2)),
                     S(T(4, 3), (_idx(1, 1),), T(3), True)])
OpInfo("take", [S(T(2, 3), _idx(0, 5, -1)), S(T(2, 3), L([[0, 1], [2, 3]], "i64"))],
       errors=[E(T(2, 3), _idx(6))])
OpInfo("take_along_dim", [S(T(2, 3), L([[0], [2]], "i64"), 1), S(T(2, 3), _idx(0, 4)),
                          S(T(2, 3), L([[0, 1, 1]], "i64"), 0)])

# -- scatter family -----------------------------------------------------------------------------
_I3 = L([[0, 1], [2, 3], [1, 0]], "i64")      # no repeated target within a row
# (a source larger than the index: PyTorch's backward rejects its own gradient for it, so
# that source does not require grad here)
OpInfo("scatter", [S(T(3, 4), 1, _I3, T(3, 2)), S(T(3, 4), 1, _I3, 1.5),
                   S(T(3, 4), 1, _I3, T(3, 3, grad=False)),
                   S(T(3, 4), 0, L([[0, 1, 2, 0]], "i64"), T(1, 4)),
                   S(T(3, 4), 1, _I3, T(3, 2), reduce="add"),
                   S(T(3, 4), 1, _I3, T(3, 2), reduce="multiply")],
       errors=[E(T(3, 4), 1, L([[0, 1]], "f32"), T(1, 2), msg=False),
               E(T(3, 4), 1, _I3, T(3, 2, dtype="f64"))])
OpInfo("scatter_add", [S(T(3, 4), 1, L([[0, 0], [2, 3], [1, 1]], "i64"), T(3, 2)),
                       S(T(4), 0, _idx(0, 0, 3), T(3))])
OpInfo("scatter_reduce", [S(T(4), 0, _idx(0, 0, 3), T(3), "sum"),
                          S(T(4), 0, _idx(0, 0, 3), T(3), "prod"),
                          S(T(4), 0, _idx(0, 0, 3), T(3), "mean"),
                          S(T(4), 0, _idx(0, 0, 3), T(3), "amax"),
                          S(T(4), 0, _idx(0, 0, 3), T(3), "amin", include_self=False),
                          S(T(4), 0, _idx(0, 0, 3), T(3), "mean", include_self=False),
                          S(L([1.0, 2.0, 0.0]), 0, _idx(0, 0, 1), L([1.0, 1.0, 2.0]), "amax"),
                          S(T(4, dtype="i64"), 0, _idx(0, 0, 3), T(3, dtype="i64"), "sum")])
OpInfo("index_add", [S(T(3, 4), 0, _idx(0, 2), T(2, 4)), S(T(3, 4), 1, _idx(0, 0), T(3, 2), alpha=2.0)])
OpInfo("index_copy", [S(T(3, 4), 0, _idx(0, 2), T(2, 4)), S(T(3, 4), -1, _idx(3, 1), T(3, 2))])
OpInfo("index_fill", [S(T(3, 4), 1, _idx(0, 2), 1.5), S(T(3, 4), 0, _idx(1,), T())],
       errors=[E(T(3, 4), 1, _idx(9), 1.0)])
OpInfo("masked_scatter", [S(T(2, 3), L([True, False, True]), T(2, 3)),
                          S(T(2, 3), L([[True, False, False], [True, True, True]]), T(5))])
OpInfo("searchsorted", [S(L([1.0, 2.0, 3.0]), L([2.5, 0.0, 3.0])),
                        S(L([1.0, 2.0, 3.0]), L([2.0, 3.0]), right=True),
                        S(L([[1, 3, 5], [2, 4, 6]], "i64"), L([[3], [5]], "i64"), side="right"),
                        S(L([1.0, 2.0, 3.0]), 2.0), S(L([1.0, 2.0]), L([1.5]), out_int32=True),
                        S(L([3.0, 1.0, 2.0]), L([2.5]), sorter=L([1, 2, 0], "i64"))], grad=False)
OpInfo("bucketize", [S(L([2.5, 0.0, 3.0]), L([1.0, 2.0, 3.0])),
                     S(L([[2.0, 3.0]]), L([1.0, 2.0, 3.0]), right=True)], grad=False)
