"""The op table and the modules that fill it (importing them registers the ops)."""
from . import (registry, dispatch, basic, views, pointwise, reduce, sorting, linalg, decomp,  # noqa: F401
               shape, scatter, activation, random_ops, indexing)
from . import spectral, special_fns, windows, stft  # noqa: F401  (fft, special, windows, stft)
from . import tensor_extra  # noqa: F401,E402  (issue 12's smaller Tensor names)
from . import sparse_ops  # noqa: F401,E402  (sparse COO tensors)
from . import copies, complex_parts, statistics, tensor_utils, linalg_factor  # noqa: F401,E402  (issue 15)
from . import linalg_householder  # noqa: F401,E402  (issue 15: geqrf, ormqr, householder, LDL)
