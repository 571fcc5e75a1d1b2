"""Which dtypes each pooling function takes, against torch's CPU kernels: the same
NotImplementedError and message where torch has no kernel for the dtype, the same values
and dtype where it has one. The max pools' checks are remembered per signature
(CheckedOnce), so a dtype met after a passing call of the same shape must still raise."""
import numpy as np
import pytest

import torchlike

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64"]
POOLS = [("max_pool1d", 1, {}), ("max_pool1d", 1, {"return_indices": True}),
         ("max_pool2d", 2, {}), ("max_pool3d", 3, {}),
         ("avg_pool1d", 1, {}), ("avg_pool2d", 2, {}), ("avg_pool3d", 3, {}),
         ("adaptive_max_pool1d", 1, {}), ("adaptive_max_pool2d", 2, {}),
         ("adaptive_max_pool3d", 3, {}), ("adaptive_avg_pool1d", 1, {}),
         ("adaptive_avg_pool2d", 2, {}), ("adaptive_avg_pool3d", 3, {})]


def _outcome(lib, name, n, kwargs, dtype):
    values = np.arange(4 ** n).reshape((1, 1) + (4,) * n) % 7
    x = lib.tensor(values.tolist(), dtype=getattr(lib, dtype))
    try:
        out = getattr(lib.nn.functional, name)(x, 2, **kwargs)
    except NotImplementedError as error:
        return "NotImplementedError", str(error)
    outs = out if isinstance(out, tuple) else (out,)
    return [(str(o.dtype), o.float().tolist()) for o in outs]


@pytest.mark.parametrize("name,n,kwargs", POOLS, ids=lambda p: str(p))
def test_pool_dtypes_match_torch(oracle, name, n, kwargs):
    got = [_outcome(torchlike, name, n, kwargs, d) for d in ["float32"] + DTYPES]
    want = [_outcome(oracle, name, n, kwargs, d) for d in ["float32"] + DTYPES]
    assert got == want
