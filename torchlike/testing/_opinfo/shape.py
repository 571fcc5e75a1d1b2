"""Oracle samples for shape, view, indexing and scatter ops (see core.py)."""
from .core import D, E, L, OpInfo, S, T


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
OpInfo("contiguous (memory_format)", errors=[E(T(2, 3))],
       op=lambda lib, x: x.contiguous(memory_format=1))

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
OpInfo("argwhere", [S(L([[0.0, 1.0], [2.0, 0.0]]))], grad=False, errors=[E([1, 2])])
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

# -- invalid calls: PyTorch's exception class (and message, unless msg=False) ---------------
_ERRORS = [
    ("hstack", E([])), ("hstack", E([T(2, 3), T(3, 3)])), ("vstack", E([T(2, 3), T(2, 4)])),
    ("vstack", E([])), ("dstack", E([T(2, 3), T(3, 3)])), ("column_stack", E([T(2), T(3)])),
    ("column_stack", E([])),
    ("tensor_split", E(T(5), 0)), ("tensor_split", E(T(5), 2, 1)), ("tensor_split", E(T(5), L([1.0]))),
    ("tensor_split", E(T(5), L([[1]], "i64"))), ("tensor_split", E(T(5), 1.5, msg=False)),
    ("split", E(T(5), [1, 2])), ("split", E(T(5), 0)), ("split", E(T(5), 2, 1)),
    ("chunk", E(T(5), 0)), ("chunk", E(T(5), 2, 1)), ("unbind", E(T(2, 3), 2)),
    ("vsplit", E(T(3), 2)), ("vsplit", E(T(3, 2), 2)), ("dsplit", E(T(2, 2), 2)),
    ("dsplit", E(T(2, 2, 3), 2)),
    ("view_as", E(T(6), T(4))), ("reshape_as", E(T(6), T(5))), ("flatten", E(T(2, 3, 4), 2, 1)),
    ("flatten", E(T(2, 3), 0, 3)), ("unflatten", E(T(6), 0, (4, -1))),
    ("unflatten", E(T(6), 0, (2, 2))), ("unflatten", E(T(6), 1, (2, 3))),
    ("squeeze", E(T(2, 3), 2)), ("unsqueeze", E(T(2, 3), 3)), ("transpose", E(T(2, 3), 0, 2)),
    ("movedim", E(T(2, 3), 0, 2)), ("movedim", E(T(2, 3), (0, 1), (0,))),
    ("movedim", E(T(2, 3), (0, 0), (0, 1))), ("expand_as", E(T(3), T(4))),
    ("broadcast_to", E(T(3), (4,))), ("broadcast_to", E(T(2, 3), (3,))),
    ("diagonal", E(T(3, 3), 0, 0, 0)), ("diagonal", E(T(3), 0)),
    ("flip", E(T(2, 3), (0, 0))), ("flip", E(T(2, 3), 2)), ("fliplr", E(T(3))), ("flipud", E(T())),
    ("roll", E(T(2, 3), (1, 2), (0,))), ("roll", E(T(2, 3), 1, 2)),
    ("rot90", E(T(2, 3), 1, (0, 0), msg=False)), ("rot90", E(T(3))), ("rot90", E(T(2, 3), 1, (0,))),
    ("tile", E(T(2, 3), (-1,))), ("repeat", E(T(2), 2, -1)),
    ("repeat_interleave", E(T(3), -1)), ("repeat_interleave", E(T(3), L([1, 2], "i64"))),
    ("repeat_interleave", E(T(3), L([[1, 2, 0]], "i64"))),
    ("repeat_interleave", E(T(3), L([-1, 2, 0], "i64"))), ("repeat_interleave", E(L([-1, 2], "i64"))),
    ("repeat_interleave", E(T(3), 2, dim=1)),
    ("broadcast_tensors", E(T(2), T(3))), ("atleast_1d", E(1.0, msg=False)),
    ("meshgrid", E(T(2), T(3), indexing="foo")), ("meshgrid", E(T(2, 2), T(3), indexing="ij", msg=False)),
    ("meshgrid", E(T(2), T(3, dtype="f64"), indexing="ij")),
    ("cartesian_prod", E(T(2, 2))), ("cartesian_prod", E(T(2), T(2, 2))),
    ("combinations", E(T(2, 2))), ("combinations", E(T(3), -1)),
    ("diff", E(T(5), 1, 1)), ("diff", E(T(5), -1)), ("diff", E(T())),
    ("diff", E(T(2, 5), prepend=T(5))),
    ("take_along_dim", E(T(2, 3), L([[0, 1, 2]], "i64"), 2)),
    ("take_along_dim", E(T(2, 3), L([[0.0]]), 1)),
    ("scatter_add", E(T(3, 4), 1, L([[0, 1]], "i64"), T(1, 2, dtype="f64"))),
    ("scatter_add", E(T(3, 4), 2, L([[0, 1]], "i64"), T(1, 2))),
    ("scatter_reduce", E(T(4), 0, _idx(0, 1), T(2), "foo", msg=False)),
    ("scatter_reduce", E(T(4), 0, _idx(0, 1), T(2, dtype="f64"), "sum")),
    ("index_add", E(T(3, 4), 0, _idx(0, 2), T(2, 3))), ("index_add", E(T(3, 4), 0, L([0.0]), T(1, 4))),
    ("index_add", E(T(3, 4), 2, _idx(0), T(1, 4))), ("index_add", E(T(3, 4), 0, _idx(0, 1), T(3, 4))),
    ("index_add", E(T(3, 4), 0, _idx(0), T(1, 4, dtype="f64"))),
    ("index_add", E(T(3, 4), 0, _idx(5), T(1, 4))),
    ("index_copy", E(T(3, 4), 0, _idx(0, 2), T(3, 4))),
    ("index_copy", E(T(3, 4), 0, _idx(0), T(1, 4, dtype="f64"))),
    ("index_copy", E(T(3, 4), 0, L([0.0]), T(1, 4))), ("index_copy", E(T(3, 4), 0, _idx(0, 1), T(2, 3))),
    ("index_copy", E(T(3, 4), 0, _idx(5), T(1, 4))),
    ("masked_scatter", E(T(2, 3), L([True, False, True]), T(1))),
    ("masked_scatter", E(T(2, 3), T(3), T(2, 3))),
    ("masked_scatter", E(T(2, 3), L([True, False, True]), T(2, 3, dtype="f64"))),
    ("searchsorted", E(L([[1.0, 2.0]]), L([1.0]))), ("searchsorted", E(L([1.0, 2.0]), L([1.0]), side="foo")),
    ("bucketize", E(L([1.0]), L([[1.0, 2.0]]))),
    ("gather", E(T(3, 4), 2, L([[0]], "i64"))), ("gather", E(T(3, 4), 1, L([0], "i64"))),
    ("gather", E(T(3, 4), 1, L([[5]], "i64"))),
    ("index_select", E(T(3, 4), 0, L([[0]], "i64"))), ("index_select", E(T(3, 4), 0, L([0.0]))),
    ("take", E(T(3), L([0.0]))), ("take", E(T(3), L([0], "i32"))),
    ("scatter", E(T(3, 4), 1, L([[5]], "i64"), 1.0)),
    ("masked_fill", E(T(3), L([True, False]), 0.0)),
    ("masked_fill", E(T(3), L([True, False, True]), T(2))),
    ("masked_select", E(T(3), T(3))), ("masked_select", E(T(3), T(4, dtype="b"), msg=False)),
    ("index_put", E(T(4, 3), (_idx(5),), T(3))), ("index_put", E(T(4, 3), (_idx(0, 1),), T(3, 3))),
    ("nonzero", E(T(3), as_tuple=1)),
    ("cat", E([T(2, 3), T(2, 3)], 2)), ("stack", E([T(2), T(2)], 2)), ("stack", E([])),
    ("narrow", E(T(5), 0, -7, 1)), ("select", E(T(), 0, 0)), ("view", E(T(2, 3), -1, -1)),
    ("permute", E(T(2, 3), (0, 0))), ("expand", E(T(2, 3), 3)), ("reshape", E(T(2, 3), (-1, -1))),
    ("unfold", E(T(6), 0, 7, 1)), ("unfold", E(T(6), 0, 2, 0)), ("unbind", E(T(), msg=False)),
    ("clone", E(T(3), memory_format=1)),
]
for _name, _error in _ERRORS:
    OpInfo(_name, errors=[_error])

# -- edge shapes and dtypes the tables above leave out --------------------------------------
OpInfo("stack", [S([T(), T()]), S([T(0, 2, dtype="f64"), T(0, 2, dtype="f64")], -1),
                 S([T(2, dtype="i64"), T(2, dtype="i64")])])
OpInfo("hstack", [S([T(0, 2), T(0, 3)])])
OpInfo("vstack", [S([T(2, dtype="i64"), T(2, dtype="i64")])])
OpInfo("split", [S(T(0, 2), 1, 1), S(T(4, 2, dtype="f64"), 3, -2)])
OpInfo("chunk", [S(T(4, dtype="i64"), 3)])
OpInfo("unbind", [S(T(2, 0)), S(T(2, 3, dtype="f64"), -1)])
OpInfo("view", [S(T(), 1), S(T(0, 3), 3, 0), S(T(2, 3, dtype="i64"), -1)])
OpInfo("squeeze", [S(T(), 0), S(T(1, 0), -2)])
OpInfo("permute", [S(T(), ()), S(T(0, 2, dtype="f64"), (-1, 0))])
OpInfo("transpose", [S(T(), 0, -1), S(T(2, 3, dtype="i64"), -1, -2)])
OpInfo("movedim", [S(T(0, 2, 3), -1, 0)])
OpInfo("narrow", [S(T(4, 2, dtype="f64"), -2, 1, 0)])
OpInfo("select", [S(T(2, 3, dtype="i64"), -1, 0)])
OpInfo("expand", [S(T(), 2, 3), S(T(1, dtype="i64"), 0)])
OpInfo("diagonal", [S(T(0, 3)), S(T(3, 3, dtype="f64"), 0, -1, -2)])
OpInfo("flip", [S(T(), ()), S(T(0, 3), 1), S(T(3, dtype="i64"), 0)])
OpInfo("roll", [S(T(), 1), S(T(2, 3, dtype="i64"), -1, -1)])
OpInfo("rot90", [S(T(2, 3, dtype="f64"), 3)])
OpInfo("repeat", [S(T(0, 2), 2, 1), S(T(2, dtype="i64"), 2)])
OpInfo("tile", [S(T(), (2,)), S(T(2, dtype="f64"), (0, 2))])
OpInfo("repeat_interleave", [S(T(), 2), S(T(0, 3), 2, dim=0)])
OpInfo("broadcast_to", [S(T(), (2, 0))])
OpInfo("clone", [S(T()), S(T(0, 3, dtype="f64"))])
OpInfo("diff", [S(T(0, 3), dim=0), S(T(4, dtype="f64"), 2, -1)])
OpInfo("gather", [S(T(), 0, L(0, "i64")), S(T(3, 4, dtype="f64"), -1, L([[3], [0], [1]], "i64"))])
OpInfo("index_select", [S(T(), 0, _idx(0)), S(T(3, 4), 0, L([], "i64"))])
OpInfo("take", [S(T(2, 3), L([], "i64")), S(T(), L([0, 0], "i64"))])
OpInfo("scatter_add", [S(T(), 0, L(0, "i64"), T())])
OpInfo("index_add", [S(T(3, 4, dtype="f64"), -2, _idx(1, 1), T(2, 4, dtype="f64"))])
OpInfo("masked_fill", [S(T(), L(True), 2.0), S(T(0, 3, dtype="i64"), T(3, dtype="b"), 5)])
OpInfo("cdist", [S(T(0, 3), T(2, 3)), S(T(2, 3, dtype="f64"), T(4, 3, dtype="f64"), 2.0)])

# -- the remaining torch.* and Tensor.* names: strides, conjugation flags, new_* -------------
OpInfo("as_strided", [S(T(6), (2, 2), (1, 2)), S(T(3, 3, dtype="f64"), (2,), (4,), 1)])
OpInfo("broadcast_shapes", [S((2, 1), (3,)), S((), (0, 2)), S(3, (2, 1))], grad=False,
       errors=[E((2, 3), (4,))])
for _name in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
    OpInfo(_name, [S(T(2, 3)), S(T(3, dtype="c64", grad=False)), S(T(2, dtype="i64"))])
OpInfo("conj", errors=[E([1, 2])])
for _name in ("is_conj", "is_neg"):
    OpInfo(_name, [S(T(3)), S(T(2, dtype="c64"))], grad=False)
OpInfo("new_zeros", [S(T(2), (2, 3)), S(T(2, dtype="i64"), 3), S(T(2), 2, dtype=D("f64"))])
OpInfo("new_ones", [S(T(2), (2, 3)), S(T(2, dtype="f64"), 0)])
OpInfo("new_full", [S(T(2), (2,), 3.5), S(T(2, dtype="i64"), (3,), 7)])
OpInfo("new_tensor", [S(T(2), [1.0, 2.0]), S(T(2, dtype="f64"), 3)])
OpInfo("new_empty", [S(T(2), (2, 3)), S(T(2, dtype="i64"), 3)], nondeterministic=True)
OpInfo("ravel", errors=[E(T(3), 1)])
OpInfo("adjoint", errors=[E(T(3), msg=False)])
OpInfo("atleast_2d", errors=[E(1.0, msg=False)])
OpInfo("new_zeros", errors=[E(T(2), (-1,), msg=False)])
OpInfo("getitem (bad index)", errors=[E(T(4, 3), 5), E(T(4, 3), (0, 0, 0)), E(T(4, 3), L([0.5])),
                                      E(T(4, 3), L([True, False]))],
       op=lambda lib, x, i: x[i])
OpInfo("setitem (bad value)", errors=[E(T(4, 3), slice(0, 2), T(3, 3))],
       op=lambda lib, x, i, v: _setitem(x, i, v))
OpInfo("copy_ (bad source)", errors=[E(T(3), T(4))], op=lambda lib, x, y: x.clone().copy_(y))
OpInfo("fill_ (bad value)", errors=[E(T(3), T(2))], op=lambda lib, x, v: x.clone().fill_(v))
