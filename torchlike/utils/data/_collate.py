"""default_collate / default_convert: turn a list of samples into a batch, as PyTorch's.

The rules follow the type of the first sample: tensors stack, numpy arrays become
tensors and stack, Python floats become a float64 tensor and ints an int64 one,
strings stay a list, and containers (dicts, namedtuples, sequences) are collated field
by field. Tuples come back as lists, as in PyTorch.
"""
import collections.abc
import copy
import re

import numpy as np

__all__ = ["default_collate", "default_convert"]

_NUMPY_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _tensor_of(values, dtype=None):
    from ..._factories import tensor
    return tensor(values, dtype=dtype)


def _from_numpy(array):
    from ..._factories import from_numpy
    from ..._numpy_sharing import check_array
    check_array(array)          # (PyTorch's refusals: a negative stride, the byte order)
    return from_numpy(np.asarray(array, order="C"))


def _stacked_on_host(arrays, first):
    """What stacking the tensors of same-shaped, same-dtype numpy `arrays` gives, stacked
    by numpy: one copy, where a tensor sharing each sample's memory was made, then read
    back by the stack (3 ms a 64-sample batch). None where the samples differ in type,
    shape or dtype: the general path then gives PyTorch's result or error."""
    from ..._dtype import from_numpy_dtype
    from ..._factories import tensor_from_numpy
    from ..._numpy_sharing import check_array
    if any(type(a) is not np.ndarray or a.shape != first.shape or a.dtype != first.dtype
           for a in arrays):
        return None
    for a in arrays:
        check_array(a)                   # (as each sample's tensor would be refused)
    # (from_numpy_dtype: PyTorch's error for a dtype it lacks)
    return tensor_from_numpy(np.stack(arrays), from_numpy_dtype(first.dtype))


def _stack(tensors):
    from ..._ops.shape import stack
    return stack(tensors, 0)


def default_collate(batch):
    from ..._tensor import Tensor     # deferred: torchlike.utils loads before _tensor does
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return _stack(batch)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if isinstance(elem, np.ndarray):
            if _NUMPY_STRING_OR_OBJECT.search(elem.dtype.str) is not None:
                raise TypeError(_ERROR.format(elem.dtype))
            if elem.shape != ():
                stacked = _stacked_on_host(batch, elem)
                if stacked is not None:
                    return stacked
                return default_collate([_from_numpy(b) for b in batch])
        # numpy scalars and 0-d arrays keep their numpy dtype
        return _from_numpy(np.asarray(batch))
    if isinstance(elem, float):
        from ... import _dtype
        return _tensor_of(batch, dtype=_dtype.float64)
    if isinstance(elem, int):
        return _tensor_of(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _like_mapping(elem, fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return elem_type(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        return _like_sequence(elem, columns)
    raise TypeError(_ERROR.format(elem_type))


def _like_mapping(original, fields):
    """`fields` in a mapping of original's type: a copy keeps its own type and attributes;
    a type that can't be built from a dict gives the plain dict."""
    if isinstance(original, collections.abc.MutableMapping):
        out = copy.copy(original)
        out.update(fields)
        return out
    try:
        return type(original)(fields)
    except TypeError:
        return fields


def _like_sequence(original, items):
    """`items` in a sequence of original's type, as _like_mapping does for mappings."""
    if isinstance(original, collections.abc.MutableSequence):
        out = copy.copy(original)
        for i, item in enumerate(items):
            out[i] = item
        return out
    try:
        return type(original)(items)
    except TypeError:
        return items


def default_convert(data):
    """Without batching: numpy arrays (not strings) become tensors, inside containers too."""
    from ..._tensor import Tensor
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray) and _NUMPY_STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return _from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _like_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _like_sequence(data, [default_convert(d) for d in data])
    return data
