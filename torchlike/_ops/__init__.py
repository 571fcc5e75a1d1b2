"""The op table and the modules that fill it (importing them registers the ops)."""
from . import (registry, dispatch, basic, views, pointwise, reduce, sorting, linalg, decomp,  # noqa: F401
               shape, scatter, activation, random_ops, indexing)
from . import copies, complex_parts, statistics, tensor_utils, linalg_factor  # noqa: F401,E402  (issue 15)
