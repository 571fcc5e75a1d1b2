"""torchlike.compiler's helpers against torch.compiler's (issue 10): the same results and
errors for the calls programs make of them."""
import operator

import numpy as np
import pytest

import torchlike
from helpers import to_numpy

torch = pytest.importorskip("torch")


def _error(fn):
    try:
        fn()
    except Exception as e:      # noqa: BLE001 (the class and message are compared)
        return type(e).__name__, str(e)
    return None


def _default_backend(lib):
    seen = [lib.compiler.get_default_backend()]
    lib.compiler.set_default_backend("eager")
    seen.append(lib.compiler.get_default_backend())
    lib.compiler.set_default_backend("bogus")
    seen.append(_error(lambda: lib.compile(lambda x: x)(lib.ones(1))))
    lib.compiler.set_default_backend(None)
    seen.append(lib.compiler.get_default_backend())
    seen.append(_error(lambda: lib.compiler.set_default_backend(3)))
    return seen


def test_default_backend_as_torch():
    assert _default_backend(torchlike) == _default_backend(torch)


def _regions(lib):
    @lib.compiler.nested_compile_region
    def double(x):
        return x * 2

    @lib.compiler.nested_compile_region(max_reuse_entries=2)
    def inc(x):
        return x + 1

    @lib.compiler.substitute_in_graph(operator.indexOf)
    def index_of(a, b, /):
        return -1       # (the stand-in: PyTorch calls the original outside a trace)

    @lib.compiler.wrap_numpy
    def numpy_fn(a):
        return np.sum(a * a), a * 2

    x = lib.arange(3.0)
    total, doubled = numpy_fn(x)
    return [to_numpy(double(x)), to_numpy(inc(x)), index_of([1, 2, 3], 3),
            total, type(total), to_numpy(doubled), type(doubled).__name__]


def test_region_substitute_and_numpy_helpers_as_torch():
    ours, theirs = _regions(torchlike), _regions(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(b, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_torchs_own_compile_options_pass_the_inductor_check():
    """guard_filter_fn and use_aoti are torch.compile's options, not inductor's."""
    for lib in (torch, torchlike):
        f = lib.compile(lambda x: x + 1, options={
            "guard_filter_fn": lambda entries: [False] * len(entries)})
        assert to_numpy(f(lib.ones(2))).tolist() == [2.0, 2.0]
