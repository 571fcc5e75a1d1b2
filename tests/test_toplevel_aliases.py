"""torch.* names that re-expose other functions (torchlike/_toplevel_aliases.py), the
barebones dtypes and torch.layout: each run under torch and torchlike and compared."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, check

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(0)
X3 = _rng.standard_normal((2, 3, 8)).astype(np.float32)       # (N, C, L)
X4 = _rng.standard_normal((2, 4, 4, 4)).astype(np.float32)    # (N, C, H, W)
X5 = _rng.standard_normal((1, 2, 3, 4, 4)).astype(np.float32)
W1 = _rng.standard_normal((4, 3, 3)).astype(np.float32)
W2 = _rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
W3 = _rng.standard_normal((2, 2, 2, 2, 2)).astype(np.float32)
V = _rng.standard_normal((3, 5)).astype(np.float32)
V2 = _rng.standard_normal((3, 5)).astype(np.float32)
SIGN = np.array([1.0, -1.0, 1.0], np.float32)
PROB = _rng.uniform(0.1, 0.9, (3, 5)).astype(np.float32)
M = _rng.standard_normal((3, 4, 4)).astype(np.float64)
H = _rng.standard_normal((3, 2)).astype(np.float32)
SEQ = _rng.standard_normal((8, 2, 3)).astype(np.float32)


def w(*shape):
    """Deterministic small weights of a given shape (sines of the element index)."""
    return (np.sin(np.arange(np.prod(shape)) + 1.0) * 0.5).astype(np.float32).reshape(shape)


def t(lib, a):
    return lib.tensor(a)


# name -> fn(lib): ATen's signature, positional as PyTorch programs write it
CASES = {
    "conv1d": lambda L: L.conv1d(t(L, X3), t(L, W1), None, 1, 1),
    "conv2d": lambda L: L.conv2d(t(L, X4), t(L, W2), None, 2, 1),
    "conv3d": lambda L: L.conv3d(t(L, X5), t(L, W3)),
    "conv_transpose1d": lambda L: L.conv_transpose1d(t(L, X3), t(L, w(3, 4, 3)), None, 2),
    "conv_transpose2d": lambda L: L.conv_transpose2d(t(L, X4), t(L, w(4, 2, 3, 3))),
    "conv_transpose3d": lambda L: L.conv_transpose3d(t(L, X5), t(L, W3), None, 1, 1),
    "convolution": lambda L: L.convolution(t(L, X4), t(L, W2), None, [1, 1], [1, 1], [1, 1],
                                           False, [0, 0], 1),
    "convolution(transposed)": lambda L: L.convolution(t(L, X3), t(L, w(3, 4, 3)),
                                                       None, [2], [0], [1], True, [1], 1),
    "conv_tbc": lambda L: L.conv_tbc(t(L, SEQ), t(L, w(3, 3, 4)),
                                     t(L, np.ones(4, np.float32)), 1),
    "avg_pool1d": lambda L: L.avg_pool1d(t(L, X3), 3, 2, 1),
    "adaptive_avg_pool1d": lambda L: L.adaptive_avg_pool1d(t(L, X3), 3),
    "adaptive_max_pool1d": lambda L: L.adaptive_max_pool1d(t(L, X3), 3),
    "max_pool1d": lambda L: L.max_pool1d(t(L, X3), 2),
    "max_pool1d_with_indices": lambda L: L.max_pool1d_with_indices(t(L, X3), 3, 2, 1),
    "max_pool2d": lambda L: L.max_pool2d(t(L, X4), 2, 1),
    "max_pool3d": lambda L: L.max_pool3d(t(L, X5), 2),
    "pixel_shuffle": lambda L: L.pixel_shuffle(t(L, X4), 2),
    "pixel_unshuffle": lambda L: L.pixel_unshuffle(t(L, X4), 2),
    "channel_shuffle": lambda L: L.channel_shuffle(t(L, X4), 2),
    "batch_norm": lambda L: L.batch_norm(t(L, X4), t(L, np.arange(4.0, dtype=np.float32)), None,
                                         None, None, True, 0.1, 1e-5, True),
    "instance_norm": lambda L: L.instance_norm(t(L, X3), None, None, None, None, True, 0.1,
                                               1e-5, True),
    "layer_norm": lambda L: L.layer_norm(t(L, X3), [8]),
    "group_norm": lambda L: L.group_norm(t(L, X4), 2),
    "rms_norm": lambda L: L.rms_norm(t(L, X3), [8], None, 1e-6),
    "kl_div": lambda L: L.kl_div(t(L, V), t(L, PROB), 2),
    "binary_cross_entropy_with_logits": lambda L: L.binary_cross_entropy_with_logits(
        t(L, V), t(L, PROB), None, t(L, np.full(5, 2.0, np.float32)), 0),
    "cosine_embedding_loss": lambda L: L.cosine_embedding_loss(t(L, V), t(L, V2), t(L, SIGN),
                                                               0.1, 1),
    "hinge_embedding_loss": lambda L: L.hinge_embedding_loss(t(L, V), t(L, np.sign(V2)), 1.0, 2),
    "margin_ranking_loss": lambda L: L.margin_ranking_loss(t(L, V[:, 0]), t(L, V2[:, 0]),
                                                           t(L, SIGN), 0.2, 0),
    "poisson_nll_loss": lambda L: L.poisson_nll_loss(t(L, V), t(L, PROB), True, True, 1e-8, 1),
    "triplet_margin_loss": lambda L: L.triplet_margin_loss(t(L, V), t(L, V2), t(L, PROB), 1.0,
                                                           2.0, 1e-6, True, 1),
    "ctc_loss": lambda L: L.ctc_loss(t(L, np.log(np.full((6, 2, 4), 0.25, np.float32))),
                                     t(L, np.array([[1, 2], [3, 3]])), [6, 5], [2, 2], 0, 1),
    "grid_sampler": lambda L: L.grid_sampler(t(L, X4), t(L, np.tanh(X4[:, :3, :, :2])), 0, 1,
                                             False),
    "affine_grid_generator": lambda L: L.affine_grid_generator(
        t(L, np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1))), [2, 1, 3, 4], False),
    "rnn_tanh_cell": lambda L: L.rnn_tanh_cell(t(L, V), t(L, H), t(L, w(2, 5)), t(L, w(2, 2)),
                                               t(L, w(2)), t(L, w(2))),
    "rnn_relu_cell": lambda L: L.rnn_relu_cell(t(L, V), t(L, H), t(L, w(2, 5)), t(L, w(2, 2))),
    "gru_cell": lambda L: L.gru_cell(t(L, V), t(L, H), t(L, w(6, 5)), t(L, w(6, 2)),
                                     t(L, w(6)), t(L, w(6))),
    "lstm_cell": lambda L: L.lstm_cell(t(L, V), (t(L, H), t(L, H[::-1].copy())), t(L, w(8, 5)),
                                       t(L, w(8, 2)), t(L, w(8)), t(L, w(8))),
    # (T=8, N=2, C=3) sequences; params per layer and direction: w_ih, w_hh[, b_ih, b_hh]
    "lstm": lambda L: L.lstm(t(L, SEQ), [t(L, w(1, 2, 2)), t(L, w(1, 2, 2))],
                             [t(L, w(8, 3)), t(L, w(8, 2))], False, 1, 0.0, False, False, False),
    "gru": lambda L: L.gru(t(L, SEQ.transpose(1, 0, 2).copy()), t(L, w(2, 2, 2)),
                           [t(L, w(6, 3)), t(L, w(6, 2)), t(L, w(6)), t(L, w(6)),
                            t(L, w(6, 3)), t(L, w(6, 2)), t(L, w(6)), t(L, w(6))],
                           True, 1, 0.0, False, True, True),
    "rnn_tanh": lambda L: L.rnn_tanh(t(L, SEQ), t(L, w(2, 2, 2)),
                                     [t(L, w(2, 3)), t(L, w(2, 2)), t(L, w(2, 2)), t(L, w(2, 2))],
                                     False, 2, 0.0, False, False, False),
    "rnn_relu": lambda L: L.rnn_relu(t(L, SEQ[:, 0]), t(L, w(1, 2)), [t(L, w(2, 3)), t(L, w(2, 2))],
                                     False, 1, 0.0, False, False, False),
    "frobenius_norm": lambda L: L.frobenius_norm(t(L, M), [1, 2], True),
    "nuclear_norm": lambda L: L.nuclear_norm(t(L, M[0])),
    "nuclear_norm(dim)": lambda L: L.nuclear_norm(t(L, M), [1, 2], False),
    "norm_except_dim": lambda L: L.norm_except_dim(t(L, M), 2, 1),
    "norm_except_dim(-1)": lambda L: L.norm_except_dim(t(L, M), 3, -1),
    "embedding_renorm_": lambda L: L.embedding_renorm_(t(L, V2.copy()), t(L, np.array([0, 2, 2])),
                                                       1.0, 2.0),
    "detach": lambda L: L.detach(t(L, V).requires_grad_()),
    "detach_": lambda L: L.detach_(t(L, V) * 2),
    "is_signed": lambda L: (L.is_signed(t(L, V)), L.is_signed(L.tensor([1], dtype=L.uint8))),
    "is_same_size": lambda L: (L.is_same_size(t(L, V), t(L, V2)), L.is_same_size(t(L, V), t(L, M))),
    "get_device": lambda L: L.get_device(t(L, V)),
    "is_distributed": lambda L: L.is_distributed(t(L, V)),
    "is_storage": lambda L: (L.is_storage(t(L, V)), L.is_storage(t(L, V).untyped_storage())),
    "typename": lambda L: (L.typename(t(L, V)), L.typename(t(L, V).long()), L.typename(3),
                           L.typename(L.nn.Linear(1, 1))),
    "vander": lambda L: L.vander(L.tensor([1, 2, 3])),
    "vander(N, increasing)": lambda L: L.vander(L.tensor([1.0, 2.5]), N=4, increasing=True),
    "frombuffer": lambda L: L.frombuffer(bytearray(np.arange(6, dtype=np.int16).tobytes()),
                                         dtype=L.int16, count=4, offset=2),
    "spmm": lambda L: L.spmm(L.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2)),
                             t(L, V[:2])),
    "dsmm": lambda L: L.dsmm(L.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2)),
                             t(L, V[:2])),
    "smm": lambda L: L.smm(L.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2)),
                           t(L, V[:2])).to_dense(),
    "fork/wait": lambda L: L.wait(L.fork(lambda x, k: x * k, t(L, V), k=3)),
    "legacy_contiguous_format": lambda L: (L.legacy_contiguous_format is L.contiguous_format,
                                           repr(L.legacy_contiguous_format)),
    "thread_safe_generator": lambda L: L.thread_safe_generator(),
}
for _name in ("lstsq", "solve"):
    CASES[_name] = lambda L, n=_name: getattr(L, n)(L.eye(2), L.eye(2))
for _name in ("eig", "symeig", "matrix_rank"):
    CASES[_name] = lambda L, n=_name: getattr(L, n)(L.eye(2))


@pytest.mark.parametrize("name", sorted(CASES))
def test_alias_matches_torch(name):
    check(CASES[name], atol=1e-5, rtol=1e-5)


def test_removed_functions_raise_pytorchs_error():
    for name in ("lstsq", "solve", "eig", "symeig", "matrix_rank"):
        assert_raises_same(CASES[name])
    for name in ("lstsq", "solve"):          # and the Tensor methods of the same names
        assert_raises_same(lambda L: getattr(L.eye(2), name)(L.eye(2)))
    for name in ("eig", "symeig"):
        assert_raises_same(lambda L: getattr(L.eye(2), name)())


def test_tensor_methods_of_the_same_meaning():
    sparse = [[0, 1], [1, 0]], [1.0, 2.0], (2, 2)
    check(lambda L: (L.ones(2, 3).is_same_size(L.zeros(2, 3)), L.ones(2).is_same_size(L.ones(3)),
                     L.ones(2).is_distributed()))
    check(lambda L: L.sparse_coo_tensor(*sparse).smm(L.ones(2, 3)).to_dense())


def test_range_and_set_default_tensor_type_warn_as_pytorch():
    def warned(fn):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn()
        return value, [(c.category, str(c.message).split(" (Triggered")[0]) for c in caught]
    for args in ((1, 4, 0.5), (0, 1, 0.3), (5, 1, -2)):
        ours, theirs = warned(lambda: torchlike.range(*args)), warned(lambda: torch.range(*args))
        assert_same(ours[0], theirs[0])
        assert ours[1] == theirs[1]
    try:
        ours = warned(lambda: torchlike.set_default_tensor_type(torchlike.DoubleTensor))
        theirs = warned(lambda: torch.set_default_tensor_type(torch.DoubleTensor))
        assert ours[1] == theirs[1]
        assert repr(torchlike.get_default_dtype()) == repr(torch.get_default_dtype())
    finally:
        torch.set_default_dtype(torch.float32)
        torchlike.set_default_dtype(torchlike.float32)


def test_cond_and_while_loop_run_the_branches_their_predicates_pick():
    # torch.cond compiles through torch.compile even eagerly (seconds per call), so the
    # expected values are the chosen branch computed by torch itself
    ours = (torchlike.cond(torchlike.tensor(True), lambda x: x + 1, lambda x: x - 1,
                           (torchlike.tensor(V),)),
            torchlike.cond(False, lambda x: x + 1, lambda x: x - 1, [torchlike.tensor(V)]))
    assert_same(ours, (torch.tensor(V) + 1, torch.tensor(V) - 1))
    # (torch.while_loop too): three passes of the body double x three times
    ours = torchlike.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2),
                                (torchlike.tensor(0), torchlike.tensor(V)))
    assert_same(ours, (torch.tensor(3), torch.tensor(V) * 8))


def test_from_file_reads_raw_values(tmp_path):
    path = tmp_path / "values.bin"
    np.arange(10, dtype=np.float32).tofile(path)
    assert_same(torchlike.from_file(str(path), size=6, dtype=torchlike.float32),
                torch.from_file(str(path), size=6, dtype=torch.float32))
    assert_raises_same(lambda L: L.from_file(str(path), False, 20, dtype=L.float32))


def test_binomial_draws_counts_in_range():
    count = torchlike.tensor([0.0, 5.0, 10.0, 7.0])
    prob = torchlike.tensor([0.5, 0.0, 1.0, 0.3])
    draw = torchlike.binomial(count, prob)
    expected = torch.binomial(torch.tensor([0.0, 5.0, 10.0, 7.0]), torch.tensor([0.5, 0.0, 1.0, 0.3]))
    assert repr(draw.dtype) == repr(expected.dtype) and draw.shape == expected.shape
    assert draw[:3].tolist() == expected[:3].tolist()      # the draws with one outcome
    assert 0 <= draw[3].item() <= 7
    # a generator makes the draws repeatable (PyTorch's numbers differ: another generator)
    first = torchlike.binomial(count, prob, torchlike.Generator().manual_seed(3))
    assert first.tolist() == torchlike.binomial(count, prob,
                                                torchlike.Generator().manual_seed(3)).tolist()


BAREBONES = ["uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
             "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bit", "complex32"]


def test_barebones_dtypes_have_pytorchs_attributes():
    for name in BAREBONES:
        ours, theirs = getattr(torchlike, name), getattr(torch, name)
        assert repr(ours) == repr(theirs)
        assert (ours.itemsize, ours.is_signed, ours.is_floating_point, ours.is_complex) == \
            (theirs.itemsize, theirs.is_signed, theirs.is_floating_point, theirs.is_complex), name


def test_barebones_dtypes_convert_and_refuse_promotion():
    for name in ("uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2"):
        check(lambda L: L.tensor([1.0, 2.5, 3.0]).to(getattr(L, name)).to(L.float32))
    pairs = [("uint16", "int32"), ("uint32", "uint8"), ("float8_e4m3fn", "float32"),
             ("float8_e5m2", "float8_e4m3fn"), ("uint64", "float64"), ("float32", "uint16"),
             ("complex32", "float32"), ("complex32", "float16")]
    for a, b in pairs:
        check(lambda L: repr(L.promote_types(getattr(L, a), getattr(L, b))))


def test_unrepresentable_dtypes_are_refused_clearly():
    for name in ("complex32", "float4_e2m1fn_x2", "bit"):
        with pytest.raises(TypeError, match="not supported by torchlike"):
            torchlike.zeros(2, dtype=getattr(torchlike, name))


def test_layout_is_a_type_with_pytorchs_instances():
    for L in (torch, torchlike):
        dense, sparse = L.ones(2).layout, L.ones(2).to_sparse().layout
        assert isinstance(dense, L.layout) and isinstance(sparse, L.layout)
        assert (repr(dense), repr(sparse), str(L.strided)) == \
            ("torch.strided", "torch.sparse_coo", "torch.strided")
        assert dense is L.strided and sparse is L.sparse_coo


def test_disable_torch_function_contexts_and_fatal_error():
    for cls in ("DisableTorchFunction", "DisableTorchFunctionSubclass"):
        with getattr(torchlike, cls)():
            assert torchlike.ones(1).item() == 1
    assert issubclass(torchlike.FatalError, Exception)
    assert isinstance(torchlike.fork(lambda: 1), torchlike.Future)
