"""torch.testing.assert_allclose: the pre-1.12 comparison, kept by PyTorch with a warning."""
import warnings

from ._comparison import assert_close

# the pre-1.12 default (rtol, atol) per dtype; other dtypes compare exactly
_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning,
                  stacklevel=2)
    import torchlike
    if not isinstance(actual, torchlike.Tensor):
        actual = torchlike.tensor(actual)
    if not isinstance(expected, torchlike.Tensor):
        expected = torchlike.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_PRECISIONS.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
