"""torchlike.compiler.set_stance against torch.compiler.set_stance (issue 10): the same
calls run eagerly or compiled, and the same errors. Whether a call ran compiled is read
from the function's own result: torch.compiler.is_compiling() is True only while the
function's Python is traced, and the compiled program returns that True as a constant."""
import pytest

import torchlike

torch = pytest.importorskip("torch")


def _compiled(lib):
    def f(x):
        return x * 2, lib.compiler.is_compiling()
    return lib.compile(f, backend="eager") if lib is torch else lib.compile(f)


def _compiled_flags(lib, stance, shapes, warm=()):
    """Whether each call (of `shapes`) ran compiled, under `stance`, after `warm` calls
    in the default stance."""
    lib.compiler.reset()        # (PyTorch keeps what it saw per code object)
    f = _compiled(lib)
    for shape in warm:
        f(lib.ones(shape))
    with lib.compiler.set_stance(stance):
        flags = [f(lib.ones(shape))[1] for shape in shapes]
    # back to the default: compiled again
    flags.append(f(lib.ones(shapes[0]))[1])
    return flags


@pytest.mark.parametrize("stance, shapes, warm", [
    ("force_eager", [(2,), (2,), (3, 3)], [(2,)]),
    ("eager_on_recompile", [(2,), (3, 3), (3, 3)], [(2,)]),
    ("eager_then_compile", [(2,), (2,), (2,)], []),
    ("aot_eager_then_compile", [(4,), (4,)], []),
    ("default", [(2,), (2,)], []),
])
def test_stances_run_the_calls_torch_runs_compiled(stance, shapes, warm):
    assert _compiled_flags(torchlike, stance, shapes, warm) == \
        _compiled_flags(torch, stance, shapes, warm)


def test_function_decorator_and_context_forms():
    for lib in (torch, torchlike):
        f = _compiled(lib)

        @lib.compiler.set_stance("force_eager")
        def eager_call():
            return f(lib.ones(2))[1]
        assert eager_call() is False
        handle = lib.compiler.set_stance("force_eager")      # a function call: until reset
        assert type(handle).__name__ == "set_stance"
        assert f(lib.ones(2))[1] is False
        lib.compiler.set_stance("default")
        assert f(lib.ones(2))[1] is True
        with lib._dynamo.set_stance("force_eager"):
            assert f(lib.ones(2))[1] is False


def _first_line(fn):
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value).splitlines()[0]


def _recompile(lib):
    def g(x):
        return x * 2
    c = lib.compile(g, backend="eager") if lib is torch else lib.compile(g)
    c(lib.ones(2))
    with lib.compiler.set_stance("fail_on_recompile"):
        assert c(lib.ones(2)).shape == (2,)       # traced already: runs
        c(lib.ones(3, 3))


def _first_compile(lib):
    def h(x):
        return x + 1
    c = lib.compile(h, backend="eager") if lib is torch else lib.compile(h)
    with lib.compiler.set_stance("fail_on_recompile"):
        c(lib.ones(2))


def _unknown(lib):
    lib.compiler.set_stance("bogus")
    try:
        _compiled(lib)(lib.ones(2))
    finally:
        lib.compiler.set_stance("default")


@pytest.mark.parametrize("case", [
    _recompile, _first_compile, _unknown,
    lambda lib: lib.compiler.set_stance("force_eager", force_backend="eager"),
])
def test_errors_match_torch(case):
    assert _first_line(lambda: case(torchlike)) == _first_line(lambda: case(torch))
