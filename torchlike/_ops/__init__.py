"""The op table and the modules that fill it (importing them registers the ops)."""
from . import (registry, dispatch, basic, views, pointwise, reduce, sorting, linalg, decomp,  # noqa: F401
               shape, scatter, activation, random_ops, indexing)
from . import spectral, special_fns, windows, stft  # noqa: F401  (fft, special, windows, stft)
