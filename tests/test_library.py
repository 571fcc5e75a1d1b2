"""torchlike.library.custom_op and torchlike.ops against torch.library / torch.ops: calls,
the op's own autograd node, register_autograd, torch.ops access, mutation, and errors.
Each library keeps its ops process-wide: the namespace is this file's own."""
import pytest

import torchlike
from helpers import to_numpy

torch = pytest.importorskip("torch")


def _define(lib):
    @lib.library.custom_op("tl_lib_test::scale", mutates_args=())
    def scale(x: lib.Tensor, s: float) -> lib.Tensor:
        return x * s
    return scale


OURS, THEIRS = _define(torchlike), _define(torch)


def _outcome(call):
    try:
        return repr(call())
    except Exception as error:      # noqa: BLE001 (compared below)
        return (type(error).__name__, str(error))


def _same(call):
    assert _outcome(lambda: call(torchlike, OURS)) == _outcome(lambda: call(torch, THEIRS))


def test_calls_and_names_as_torch():
    _same(lambda lib, op: op)
    _same(lambda lib, op: op(lib.ones(3, requires_grad=True), 2.0))     # (its grad_fn)
    _same(lambda lib, op: op(lib.ones(2), s=5.0))
    _same(lambda lib, op: lib.ops.tl_lib_test.scale(lib.ones(2), 3.0))
    _same(lambda lib, op: lib.ops.tl_lib_test.scale.default)
    _same(lambda lib, op: lib.ops.tl_lib_test.scale.default(lib.ones(2), 3.0))
    _same(lambda lib, op: lib.ops.tl_lib_test.nope)


def test_autograd_is_the_registered_formula():
    """Without a formula, backward raises PyTorch's error; with one, it is the formula's
    gradient (here deliberately not the kernel's true derivative: 10 * s)."""
    def backward(lib, op, *args):
        x = lib.ones(3, requires_grad=True)
        op(x, *args).sum().backward()
        return x.grad
    for lib in (torchlike, torch):
        lib.library.custom_op("tl_lib_test::unregistered", mutates_args=())(_annotated(lib))
    _same(lambda lib, op: backward(lib, lib.ops.tl_lib_test.unregistered))
    for lib, op in ((torchlike, OURS), (torch, THEIRS)):
        op.register_autograd(lambda ctx, g: (g * ctx.s * 10, None),
                             setup_context=lambda ctx, inputs, output: setattr(ctx, "s",
                                                                               inputs[1]))
    _same(lambda lib, op: backward(lib, op, 2.0))


def _annotated(lib):
    def identity_times_two(x: lib.Tensor) -> lib.Tensor:
        return x * 2
    return identity_times_two


def test_mutating_op_and_schema_errors_as_torch():
    def mutate(lib, op):
        @lib.library.custom_op("tl_lib_test::add_into", mutates_args=("a",))
        def add_into(a: lib.Tensor, b: lib.Tensor) -> None:
            a.add_(b)
        z = lib.zeros(2)
        return add_into(z, lib.ones(2)), z
    _same(mutate)

    def unannotated(lib, op):
        def f(x):
            return x
        return lib.library.custom_op("tl_lib_test::bad", mutates_args=())(f)

    def no_result_annotation(lib, op):
        def f(x: lib.Tensor):
            return x
        return lib.library.custom_op("tl_lib_test::bad2", mutates_args=())(f)
    _same(unannotated)
    _same(no_result_annotation)


def test_custom_op_runs_under_vmap_and_compile():
    x = torchlike.arange(6.0).reshape(2, 3)
    assert to_numpy(torchlike.vmap(lambda t: OURS(t, 2.0))(x)).tolist() == \
        (torch.vmap(lambda t: THEIRS(t, 2.0))(torch.arange(6.0).reshape(2, 3))).tolist()
    # (torch.compile needs a register_fake for it; torchlike traces the kernel itself)
    assert to_numpy(torchlike.compile(lambda t: OURS(t, 4.0))(torchlike.ones(2))).tolist() == \
        [4.0, 4.0]


def _numpy_ops(lib, namespace, calls):
    """Ops whose kernels run in numpy (what a custom op is for), noting the shape each
    kernel call gets: sin, a two-output op, and a cube with a registered vmap rule."""
    import numpy as np

    @lib.library.custom_op(f"{namespace}::np_sin", mutates_args=())
    def np_sin(x: lib.Tensor) -> lib.Tensor:
        calls.append(("sin", tuple(x.shape)))
        return lib.from_numpy(np.sin(x.numpy()))

    @lib.library.custom_op(f"{namespace}::np_two", mutates_args=())
    def np_two(x: lib.Tensor, y: lib.Tensor) -> tuple[lib.Tensor, lib.Tensor]:
        calls.append(("two", tuple(x.shape), tuple(y.shape)))
        return lib.from_numpy(x.numpy() + y.numpy()), lib.from_numpy(x.numpy() * y.numpy())

    @lib.library.custom_op(f"{namespace}::np_cube", mutates_args=())
    def np_cube(x: lib.Tensor) -> lib.Tensor:
        calls.append(("cube", tuple(x.shape)))
        return lib.from_numpy(x.numpy() ** 3)

    @np_cube.register_vmap
    def _(info, in_dims, x):
        calls.append(("cube rule", info.batch_size, in_dims))
        return np_cube(x) + 100, in_dims[0]
    return np_sin, np_two, np_cube


_OUR_CALLS, _THEIR_CALLS = [], []
_OUR_NP, _THEIR_NP = (_numpy_ops(torchlike, "tl_lib_np", _OUR_CALLS),
                      _numpy_ops(torch, "tl_lib_np", _THEIR_CALLS))

_NUMPY_CALLS = {
    "vmap": lambda lib, ops, x: lib.vmap(ops[0])(x),
    "vmap in_dims=1": lambda lib, ops, x: lib.vmap(ops[0], in_dims=1)(x),
    "vmap two outputs": lambda lib, ops, x: lib.vmap(ops[1], in_dims=(0, None))(x, x[0]),
    "vmap of vmap": lambda lib, ops, x: lib.vmap(lib.vmap(ops[0]))(x),
    "registered rule": lambda lib, ops, x: lib.vmap(ops[2], in_dims=1)(x),
    "jvp": lambda lib, ops, x: lib.func.jvp(ops[1], (x, x), (x, x)),
    "jacfwd": lambda lib, ops, x: lib.func.jacfwd(ops[0])(x[0]),
    "vmap of jvp": lambda lib, ops, x: lib.vmap(lambda t: lib.func.jvp(ops[0], (t,), (t,)))(x),
}


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("call", sorted(_NUMPY_CALLS))
def test_custom_op_kernels_under_vmap_and_forward_mode_as_torch(call, compiled, monkeypatch):
    """Under vmap the kernel runs per sample (PyTorch's fallback) or by the registered
    rule, on real values, so a numpy kernel works (a 0-dim sample of vmap of vmap fails
    in numpy as in PyTorch); forward mode gives zero tangents (torchlike traced the
    kernel: numpy failed, and jvp differentiated it). With the transform tier on, its
    attempt to trace a program calls the kernel once more before it runs eagerly, so
    the kernel's calls are compared with it off."""
    import numpy as np
    monkeypatch.setattr(torchlike._dynamo.config, "compile_func_transforms", compiled)
    values = np.array([[0.5, 1.0], [2.0, 3.0], [1.0, -1.0]], np.float32)
    for calls in (_OUR_CALLS, _THEIR_CALLS):
        calls.clear()
    assert _outcome(lambda: _NUMPY_CALLS[call](torchlike, _OUR_NP, torchlike.tensor(values))) \
        == _outcome(lambda: _NUMPY_CALLS[call](torch, _THEIR_NP, torch.tensor(values)))
    if not compiled:
        assert _OUR_CALLS == _THEIR_CALLS
