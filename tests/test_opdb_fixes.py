"""The crashes and wrong values issue 15 found with PyTorch's op_db, each checked against
real torch directly (op_db's first samples do not reach all of them)."""
import pytest

from helpers import check

torch = pytest.importorskip("torch")

CASES = {
    "cast with memory_format": lambda lib: lib.ones(1, 2, 2, 2).double(
        memory_format=lib.channels_last),
    "aminmax over dim 0 of a 0-d tensor": lambda lib: lib.aminmax(lib.tensor(3.), dim=0),
    "max over dim 0 of a 0-d tensor": lambda lib: lib.max(lib.tensor(3.), 0),
    "unfold of a 0-d tensor": lambda lib: lib.tensor(3.).unfold(0, 1, 1),
    "nonzero of a 0-d tensor": lambda lib: (lib.nonzero(lib.tensor(3.)), lib.nonzero(lib.tensor(0.)),
                                            lib.nonzero(lib.tensor(2.), as_tuple=True)),
    "reflect pad with negative widths": lambda lib: lib.nn.functional.pad(
        lib.arange(24.).reshape(1, 2, 3, 4), (1, 1, -1, 2), mode="reflect"),
    "replicate pad with negative widths": lambda lib: lib.nn.functional.pad(
        lib.arange(24.).reshape(1, 2, 3, 4), (-2, 3, 0, -2), mode="replicate"),
    "circular pad with negative widths": lambda lib: lib.nn.functional.pad(
        lib.arange(24.).reshape(1, 2, 3, 4), (1, 1, -1, 2), mode="circular"),
    "cholesky of 0x0": lambda lib: lib.linalg.cholesky(lib.zeros(0, 0)),
    "inv of 0x0": lambda lib: lib.linalg.inv(lib.zeros(2, 0, 0)),
    "unique_consecutive of empty": lambda lib: lib.unique_consecutive(
        lib.zeros(0), return_counts=True, return_inverse=True),
    "unique_consecutive of one element": lambda lib: lib.unique_consecutive(
        lib.tensor([[1.]]), dim=0),
    "index_add of bools": lambda lib: lib.zeros(3, dtype=lib.bool).index_add(
        0, lib.tensor([0, 1]), lib.tensor([True, True])),
    "scatter_add of bools": lambda lib: lib.zeros(3, dtype=lib.bool).scatter_add(
        0, lib.tensor([0, 1]), lib.tensor([True, False])),
    "clamp of bools by tensors": lambda lib: lib.clamp(lib.tensor([True, False]),
                                                       min=lib.tensor(True)),
    "mode of bools": lambda lib: lib.mode(lib.tensor([True, False, True])),
    "__rpow__ with a tensor": lambda lib: lib.tensor([2., 3.]).__rpow__(lib.tensor([1., 2.])),
    "__rsub__ with a tensor": lambda lib: lib.tensor([2., 3.]).__rsub__(lib.tensor([1., 2.])),
    "int64 max_pool with padding": lambda lib: lib.nn.functional.max_pool2d(
        lib.tensor([[[[1, 2], [3, 4]]]]), 2, padding=1),
    "max_pool3d with negative padding": lambda lib: lib.nn.functional.max_pool3d(
        lib.ones(1, 1, 4, 4, 4), 2, padding=-1),
    "polygamma at negative x": lambda lib: [lib.polygamma(n, lib.tensor(
        [-8.478, -0.3, -1.5, 2.5, 0.1, 30.5], dtype=lib.float64)) for n in (1, 2, 3)],
    "digamma at +-0": lambda lib: lib.digamma(lib.tensor([0., -0., 1.], dtype=lib.float64)),
    "integer avg_pool2d": lambda lib: lib.nn.functional.avg_pool2d(
        lib.arange(16).reshape(1, 1, 4, 4), 2),
    "integer avg_pool3d": lambda lib: lib.nn.functional.avg_pool3d(
        -lib.arange(32).reshape(1, 1, 2, 4, 4), 2, divisor_override=3),
    "integer triplet_margin_loss": lambda lib: lib.nn.functional.triplet_margin_loss(
        *(lib.ones(2, 3, dtype=lib.int64),) * 3),
    "square of bools": lambda lib: lib.square(lib.tensor([True, False])),
    "integer addbmm": lambda lib: lib.addbmm(lib.ones(2, 2, dtype=lib.int64),
                                             lib.ones(1, 2, 2, dtype=lib.int64),
                                             lib.ones(1, 2, 2, dtype=lib.int64)),
    "bool addr": lambda lib: lib.addr(lib.tensor([[True, False]] * 2), lib.tensor([True, False]),
                                      lib.tensor([False, True])),
    "pinv hermitian reads the lower triangle": lambda lib: lib.linalg.pinv(
        lib.tensor([[2., 1.], [5., 3.]], dtype=lib.float64), hermitian=True),
    "pinv with atol": lambda lib: lib.linalg.pinv(
        lib.tensor([[2., 0.], [0., 1e-3]], dtype=lib.float64), atol=1e-2),
    # ops added for op_db whose other arguments its first samples do not reach
    "gradient on coordinates, edge order 2": lambda lib: lib.gradient(
        lib.tensor([[1., 4, 9, 16, 25], [2, 3, 5, 7, 11]], dtype=lib.float64),
        spacing=(lib.tensor([0., 1, 3, 4, 7], dtype=lib.float64),), dim=1, edge_order=2),
    "gradient of integers, every dim, spacing 2": lambda lib: lib.gradient(
        lib.arange(12).reshape(3, 4) ** 2, spacing=2., edge_order=2),
    "householder_product and orgqr of a batch": lambda lib: [
        f(*lib.geqrf(lib.tensor(_MATRICES[:, :, :3], dtype=lib.float64)))
        for f in (lib.linalg.householder_product, lib.orgqr)],
    "ormqr on either side, transposed or not": lambda lib: [
        lib.ormqr(*lib.geqrf(lib.tensor(_MATRICES[:, :, :3], dtype=lib.float64)),
                  lib.tensor(_MATRICES if left else _MATRICES.transpose(0, 2, 1),
                             dtype=lib.float64), left, transpose)
        for left, transpose in ((True, True), (False, False))],
    "ldl_factor_ex and ldl_solve of a batch": lambda lib: (lambda f: (f, lib.linalg.ldl_solve(
        f.LD, f.pivots, lib.tensor(_MATRICES[:, :, :2], dtype=lib.float64))))(
        lib.linalg.ldl_factor_ex(lib.tensor(_MATRICES + _MATRICES.transpose(0, 2, 1),
                                            dtype=lib.float64))),
    "ldl_factor_ex of a singular matrix reports it in info": lambda lib:
        lib.linalg.ldl_factor_ex(lib.zeros(3, 3)).info,
    "histogramdd with weights of the wrong shape": lambda lib: lib.histogramdd(
        lib.zeros(5, 2), bins=2, weight=lib.ones(4)),
    "histogramdd with weights, range and density": lambda lib: lib.histogramdd(
        lib.tensor(_MATRICES.reshape(-1, 2), dtype=lib.float64), bins=[3, 2],
        range=[-1., 1., -2., 2.], weight=lib.arange(25., dtype=lib.float64), density=True),
}
# two 5x5 matrices with entries in [-1, 1) (fixed values)
_MATRICES = __import__("numpy").random.default_rng(15).uniform(-1, 1, (2, 5, 5))


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    # float64 or exact results of a few roundings: 1e-12 is thousands of ulps (helpers.py)
    check(CASES[name], atol=1e-12, rtol=1e-12)


def _grads(lib, build):
    leaf = lib.tensor([5., -3., 7.5, 1.25, -2.5, 4.], dtype=lib.float64, requires_grad=True)
    out = build(lib, leaf)
    weights = lib.arange(1., out.numel() + 1, dtype=lib.float64).reshape(out.shape)
    (out * weights).sum().backward()
    return leaf.grad


GRADS = {
    "remainder by a tensor": lambda lib, x: lib.remainder(x, lib.tensor(2., dtype=lib.float64)),
    "remainder of a tensor": lambda lib, x: lib.tensor(3., dtype=lib.float64) % x,
    "as_strided of a view": lambda lib, x: x[2:].as_strided((2, 2), (1, 2), 1),
    "as_strided of a transposed view": lambda lib, x: x.reshape(2, 3).t().as_strided(
        (2, 2), (1, 2), 1),
    "pinv hermitian": lambda lib, x: lib.linalg.pinv(x[:4].reshape(2, 2), hermitian=True),
    "polygamma at negative x": lambda lib, x: lib.polygamma(1, x - 10.3),
    "digamma": lambda lib, x: lib.digamma(x),
    "householder_product": lambda lib, x: lib.linalg.householder_product(
        x.reshape(3, 2), x[:2] / 10),
    "ormqr": lambda lib, x: lib.ormqr(x.reshape(3, 2), x[:2] / 10, x.reshape(3, 2) * 2, True,
                                      True),
    "gradient on coordinates": lambda lib, x: lib.gradient(
        x, spacing=(lib.tensor([0., 1, 3, 4, 7, 8], dtype=lib.float64),), edge_order=2)[0],
}


@pytest.mark.parametrize("name", GRADS)
def test_gradients_match_torch(name):
    ours = _grads(__import__("torchlike"), GRADS[name])
    theirs = _grads(torch, GRADS[name])
    # float64 pointwise/2x2 computations: a few dozen roundings at most (helpers.py)
    import numpy as np
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_ldl_factor_of_a_singular_matrix_raises():
    # PyTorch's message is an internal assertion with its source path in front of the
    # part torchlike reproduces, so the class and that tail are compared
    import torchlike
    for lib in (torch, torchlike):
        with pytest.raises(RuntimeError, match=r"torch.linalg.ldl_factor: Unknown error code: 1\.$"):
            lib.linalg.ldl_factor(lib.zeros(3, 3))
