"""Compare torchlike._printing against real PyTorch's tensor repr, exactly."""

import importlib.util
import math
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

# Load the module straight from its file so these tests do not depend on the
# rest of the package (whose __init__ pulls in jax) being importable.
_PATH = pathlib.Path(__file__).resolve().parents[1] / "torchlike" / "_printing.py"
_spec = importlib.util.spec_from_file_location("_torchlike_printing_under_test", _PATH)
P = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(P)

nan, inf = float("nan"), float("inf")


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Every test starts and ends with default options on both sides."""
    torch.set_printoptions(profile="default")
    P.set_printoptions(profile="default")
    old_default = torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_printoptions(profile="default")
        P.set_printoptions(profile="default")
        torch.set_default_dtype(old_default)


def _name(dtype):
    return str(dtype).replace("torch.", "")


def ours(t, **kw):
    """Format a real torch tensor with our module, passing only numpy + metadata."""
    d = t.detach()
    if d.dtype in (torch.bfloat16, torch.float16):
        values = d.float().numpy()  # numpy has no bfloat16; float32 is exact
    else:
        values = d.numpy()
    gf = t.grad_fn
    return P.format_tensor(
        values,
        dtype_name=_name(t.dtype),
        shape=tuple(t.shape),
        default_float_dtype_name=_name(torch.get_default_dtype()),
        requires_grad=t.requires_grad,
        grad_fn_name=None if gf is None else type(gf).__name__,
        is_parameter=isinstance(t, torch.nn.Parameter),
        **kw,
    )


def check(t):
    expected = repr(t)
    got = ours(t)
    assert got == expected, f"\n--- torch ---\n{expected}\n--- ours ---\n{got}"
    assert str(t) == expected  # str and repr are the same thing in torch


T = torch.tensor
CASES = {
    # basics
    "float_ints": lambda: T([1.0, 2.0, 3.0]),
    "float_frac": lambda: T([1.5, 2.25, -3.125]),
    "precision_round": lambda: T([1.12345, 0.00015, 2.0]),
    "scalar_float": lambda: T(3.5),
    "scalar_int_float": lambda: T(3.0),
    "scalar_int": lambda: T(7),
    "scalar_bool": lambda: T(True),
    "scalar_neg_zero": lambda: T(-0.0),
    "scalar_nan": lambda: T(nan),
    "scalar_big": lambda: T(1.5e10),
    "scalar_small": lambda: T(1.5e-10),
    "scalar_complex": lambda: T(1 + 2j),
    "scalar_f64": lambda: T(2.5, dtype=torch.float64),
    "int64": lambda: T([1, -20, 300]),
    "int32": lambda: T([1, -20, 300], dtype=torch.int32),
    "int16": lambda: T([[1, 2], [3, 4]], dtype=torch.int16),
    "int8": lambda: T([-128, 0, 127], dtype=torch.int8),
    "uint8": lambda: T([0, 128, 255], dtype=torch.uint8),
    "bool": lambda: T([True, False, True]),
    "bool_2d": lambda: T([[True], [False]]),
    # float dtypes
    "float64": lambda: T([1.0, 2.5], dtype=torch.float64),
    "float64_int": lambda: T([1.0, 2.0], dtype=torch.float64),
    "float16": lambda: T([1.0, 2.5, 65504.0], dtype=torch.float16),
    "float16_small": lambda: T([1e-3, 0.1, 3.14159], dtype=torch.float16),
    "bfloat16": lambda: T([1.0, 2.5, 3.14159], dtype=torch.bfloat16),
    "bfloat16_big": lambda: T([1e10, -3.0, 1e-3], dtype=torch.bfloat16),
    # scientific notation triggers
    "sci_ratio": lambda: T([1.0, 1001.0]),
    "sci_ratio_edge": lambda: T([1.0, 1000.0]),
    "sci_big": lambda: T([1e9, 2e9]),
    "sci_big_edge": lambda: T([1e8, 2.0e7]),
    "sci_small": lambda: T([1e-5, 2e-5]),
    "sci_small_edge": lambda: T([1e-4, 2e-4]),
    "sci_huge_exp": lambda: T([1e-300, 1e300], dtype=torch.float64),
    "sci_with_nan_inf": lambda: T([1e-8, nan, inf, -inf, 0.0, 1.0]),
    "sci_neg": lambda: T([-1e-6, 3.0]),
    # special values
    "nan_inf": lambda: T([nan, inf, -inf]),
    "nan_with_int": lambda: T([1.0, nan, 2.0]),
    "inf_with_frac": lambda: T([0.5, inf, -inf, nan]),
    "zeros": lambda: torch.zeros(4),
    "neg_zero": lambda: T([0.0, -0.0, 1.5]),
    "neg_zero_int_mode": lambda: T([-0.0, 1.0]),
    "neg_zero_only": lambda: T([-0.0, -0.0]),
    # empty tensors
    "empty": lambda: T([]),
    "empty_2d": lambda: torch.zeros(0, 3),
    "empty_3d": lambda: torch.zeros(2, 0, 3),
    "empty_int": lambda: torch.zeros(0, dtype=torch.int64),
    "empty_bool": lambda: torch.zeros(0, dtype=torch.bool),
    "empty_f64": lambda: torch.zeros(0, 2, dtype=torch.float64),
    "empty_complex": lambda: torch.zeros(0, dtype=torch.complex64),
    # complex
    "complex": lambda: T([1 + 2j, -3.5 - 0.25j, 0j]),
    "complex_ints": lambda: T([1 + 2j, 3 - 4j]),
    "complex_neg_zero_imag": lambda: T([complex(1.0, -0.0), complex(0.0, 0.0)]),
    "complex_sci": lambda: T([1e-6 + 1e6j, 2 + 3j]),
    "complex_nan": lambda: T([complex(nan, nan), complex(1, inf), complex(2, -inf)]),
    "complex128": lambda: T([1.5 + 2j], dtype=torch.complex128),
    "complex_2d": lambda: T([[1 + 1j, 2.5 - 2j], [3 + 0j, -4 - 4.5j]]),
    "complex_long": lambda: torch.arange(30, dtype=torch.float32) * (1 + 0.5j),
    "complex_summarized": lambda: torch.arange(2000, dtype=torch.float32) * (1 - 1j),
    # shapes and wrapping
    "2d": lambda: T([[1.0, 2.5], [3.0, 4.0]]),
    "2d_widths": lambda: T([[1.0, -200.5], [3.0, 4.0]]),
    "3d": lambda: torch.arange(24.0).reshape(2, 3, 4),
    "4d": lambda: torch.arange(36).reshape(3, 1, 3, 4),
    "5d": lambda: torch.arange(32.0).reshape(2, 2, 2, 2, 2) / 3,
    "size1_dims": lambda: torch.ones(1, 1, 1),
    "long_row": lambda: torch.arange(40.0) / 7,
    "long_row_int": lambda: torch.arange(100),
    "long_row_2d": lambda: torch.arange(60.0).reshape(2, 30) * 1.5,
    "wide_ints_wrap": lambda: torch.arange(50) * 123456789,
    "wrap_with_nan_over_width": lambda: T([1.0, nan] * 30),
    # summarisation
    "summ_1d": lambda: torch.arange(1001.0),
    "not_summ_1000": lambda: torch.arange(1000),
    "summ_2d": lambda: torch.arange(10000.0).reshape(100, 100),
    "summ_2d_narrow": lambda: torch.arange(2000.0).reshape(1000, 2),
    "summ_2d_wide": lambda: torch.arange(2000.0).reshape(2, 1000),
    "summ_3d": lambda: torch.arange(2 * 30 * 40).reshape(2, 30, 40),
    "summ_hidden_nan": lambda: torch.cat([T([1.0, 2, 3]), torch.full((1000,), 0.5), T([4.0, 5, 6])]),
    "summ_hidden_big": lambda: torch.cat([T([1.0, 2, 3]), torch.full((1000,), 1e12), T([4.0, 5, 6])]),
    "summ_bool": lambda: torch.arange(3000) % 3 == 0,
    # autograd suffixes
    "requires_grad": lambda: torch.ones(3, requires_grad=True),
    "grad_fn_mul": lambda: torch.ones(3, requires_grad=True) * 2,
    "grad_fn_sum": lambda: (torch.ones(3, requires_grad=True) * 2).sum(),
    "grad_fn_2d": lambda: torch.arange(6.0, requires_grad=True).reshape(2, 3) + 1,
    "grad_fn_wraps": lambda: torch.arange(23.0, requires_grad=True) / 3,
    "grad_fn_f64_wraps": lambda: torch.arange(10.0, dtype=torch.float64, requires_grad=True) * 1.5,
    "requires_grad_f16": lambda: torch.ones(2, dtype=torch.float16, requires_grad=True),
    "grad_fn_long_line": lambda: torch.arange(18.0, requires_grad=True).exp(),
    "parameter": lambda: torch.nn.Parameter(torch.ones(2, 2)),
    "parameter_no_grad": lambda: torch.nn.Parameter(T([1.5, 2.0]), requires_grad=False),
    "parameter_f64": lambda: torch.nn.Parameter(torch.ones(3, dtype=torch.float64)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    check(CASES[name]())


# The dtype-suffix cases must be rerun under float64 as default, where the
# rules for float32/float64/complex64/complex128 flip.
DEFAULT_F64_CASES = ["float_frac", "float64", "scalar_f64", "empty", "empty_f64",
                     "complex", "complex128", "empty_complex", "empty_int",
                     "bfloat16", "float16", "grad_fn_f64_wraps", "parameter_f64"]


@pytest.mark.parametrize("name", DEFAULT_F64_CASES)
def test_default_dtype_float64(name):
    torch.set_default_dtype(torch.float64)
    check(CASES[name]())
    # tensors created with an explicit float32 now carry a suffix
    check(T([1.5], dtype=torch.float32))


OPTION_SETS = [
    dict(precision=2),
    dict(precision=0),
    dict(precision=8),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(edgeitems=1, threshold=10),
    dict(linewidth=40),
    dict(linewidth=10),
    dict(linewidth=200),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(sci_mode=True, precision=2),
    dict(profile="short"),
    dict(profile="full"),
    dict(profile="short", precision=6),
]
OPTION_TENSORS = ["float_frac", "long_row", "summ_2d", "3d", "sci_small", "sci_big",
                  "zeros", "complex", "long_row_int", "grad_fn_wraps", "nan_inf",
                  "summ_1d", "empty_2d", "scalar_float", "bool_2d", "complex_summarized"]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: repr(o))
def test_printoptions(opts):
    torch.set_printoptions(**opts)
    P.set_printoptions(**opts)
    assert P.get_printoptions() == torch._tensor_str.get_printoptions()
    for name in OPTION_TENSORS:
        check(CASES[name]())


def test_get_printoptions_defaults_and_roundtrip():
    assert P.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                    "linewidth": 80, "sci_mode": None}
    P.set_printoptions(precision=3, sci_mode=True)
    saved = P.get_printoptions()
    P.set_printoptions(profile="default")
    P.set_printoptions(**saved)
    assert P.get_printoptions() == saved
    # as in torch, a call that omits sci_mode resets it to automatic
    P.set_printoptions(precision=5)
    assert P.get_printoptions()["sci_mode"] is None


def test_device_suffix():
    # Real CUDA is not available here, so compare against the CPU repr with the
    # device suffix spliced in the place torch puts it (first suffix).
    got = P.format_tensor(np.array([1.0, 2.0], np.float32), dtype_name="float32",
                          shape=(2,), device="cuda:0")
    assert got == "tensor([1., 2.], device='cuda:0')"
    got = P.format_tensor(np.array([1, 2]), dtype_name="int32", shape=(2,),
                          device="cuda:1", requires_grad=False)
    assert got == "tensor([1, 2], device='cuda:1', dtype=torch.int32)"
    got = P.format_tensor(np.array([1.0]), dtype_name="float32", shape=(1,), device="cpu")
    assert got == "tensor([1.])"
    # No CUDA here: check device ordering and wrapping by splicing the suffix
    # into a real torch repr whose last line is already near the limit.
    t = torch.arange(23.0, requires_grad=True) / 3
    ref = repr(t)
    got = P.format_tensor(t.detach().numpy(), dtype_name="float32", shape=(23,),
                          device="cuda:0", grad_fn_name="DivBackward0")
    body = ref[: ref.index(", grad_fn") if ", grad_fn" in ref else ref.index(",\n")]
    assert got == body + ", device='cuda:0',\n       grad_fn=<DivBackward0>)"


def test_prefix_and_aliases():
    got = P.format_tensor(np.arange(3), dtype_name="long", shape=(3,), prefix="MyTensor(")
    assert got == "MyTensor([0, 1, 2])"
    got = P.format_tensor(np.ones(2, np.float16), dtype_name="torch.half", shape=(2,))
    assert got == "tensor([1., 1.], dtype=torch.float16)"


def test_float16_passed_natively():
    t = T([0.1, 1.0 / 3, 1000.0], dtype=torch.float16)
    got = P.format_tensor(t.numpy(), dtype_name="float16", shape=(3,))
    assert got == repr(t)


def test_random_magnitudes():
    """Seeded tensors whose magnitudes range 1e-5..1e8, in several shapes."""
    rng = np.random.default_rng(1234)
    for exp_lo in range(-5, 9):
        for shape in [(7,), (3, 4), (2, 3, 5)]:
            mag = 10.0 ** rng.uniform(exp_lo, exp_lo + 1, size=shape)
            vals = (mag * rng.choice([-1, 1], size=shape)).astype(np.float32)
            check(torch.from_numpy(vals))


_RANDOM_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16,
                  torch.int64, torch.int32, torch.uint8, torch.bool,
                  torch.complex64, torch.complex128]


def _random_tensor(rng):
    ndim = int(rng.integers(0, 5))
    shape = tuple(int(rng.integers(0, 7 if ndim > 2 else 40)) for _ in range(ndim))
    if rng.random() < 0.1 and ndim:
        shape = (int(rng.integers(30, 60)),) * min(ndim, 3)  # over threshold
    dtype = _RANDOM_DTYPES[int(rng.integers(len(_RANDOM_DTYPES)))]
    n = int(np.prod(shape, dtype=np.int64))
    lo, hi = sorted(rng.uniform(-6, 10, size=2))
    mags = 10.0 ** rng.uniform(lo, hi, size=n)
    vals = mags * rng.choice([-1.0, 1.0], size=n)
    if rng.random() < 0.4:
        vals = np.round(vals)  # integer-valued floats
    if n and rng.random() < 0.2:
        k = int(rng.integers(1, n + 1))
        vals[rng.integers(0, n, size=k)] = rng.choice([nan, inf, -inf, 0.0, -0.0], size=k)
    if dtype.is_complex:
        im = 10.0 ** rng.uniform(lo, hi, size=n) * rng.choice([-1.0, 1.0], size=n)
        arr = (vals + 1j * im).reshape(shape)
        return torch.from_numpy(arr).to(dtype)
    if dtype == torch.bool:
        return torch.from_numpy(np.asarray(vals.reshape(shape) > 0))
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        ints = np.nan_to_num(vals, nan=0.0, posinf=0.0, neginf=0.0)
        ints = np.clip(ints, info.min, info.max).astype(np.int64)
        return torch.from_numpy(ints.reshape(shape)).to(dtype)
    with np.errstate(over="ignore"):
        return torch.from_numpy(vals.reshape(shape)).to(dtype)


def test_random_loop():
    rng = np.random.default_rng(20240613)
    for _ in range(200):
        t = _random_tensor(rng)
        if rng.random() < 0.2:
            t = t.float().requires_grad_() * 1 if t.is_floating_point() else t
        check(t)


def test_random_loop_with_options():
    rng = np.random.default_rng(7)
    for i in range(60):
        opts = dict(precision=int(rng.integers(0, 7)),
                    threshold=int(rng.integers(5, 200)),
                    edgeitems=int(rng.integers(0, 4)),
                    linewidth=int(rng.integers(20, 120)),
                    sci_mode=[None, True, False][i % 3])
        torch.set_printoptions(**opts)
        P.set_printoptions(**opts)
        check(_random_tensor(rng))
