"""Datasets: map-style (Dataset) and stream-style (IterableDataset), and their combinators."""
import bisect
import functools
import itertools
import math
import operator
import warnings

import numpy as np

from ... import _device
from ..._host_ops import _late, _numpy_may_read

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]


class Dataset:
    """A map from keys (usually 0..len-1) to samples: subclasses define __getitem__ and,
    for samplers and len(loader), __len__."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define __iter__."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample i is (t[i] for each tensor t); all tensors share their first dimension."""

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(_row(t, index) for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


@functools.lru_cache(maxsize=None)
def _row_kernel():
    import jax
    # the row number is traced, so one compiled kernel per tensor shape serves every
    # index (plain `t[i]` compiles again for each new integer i: a 2048-sample epoch
    # spent minutes compiling)
    return jax.jit(lambda array, i: jax.lax.dynamic_index_in_dim(array, i, keepdims=False))


def _row(t, index):
    """t[index], fast for the integer index every sampler produces."""
    Tensor = _late()[2]
    try:
        i = operator.index(index)
    except TypeError:
        return t[index]
    n = t.size(0) if t.dim() else 0
    if not isinstance(t, Tensor) or t.requires_grad or not -n <= i < n:
        return t[index]          # autograd history or PyTorch's IndexError: the full path
    if _host_rows(t) is not None:
        return t[i]              # a view, as PyTorch's; numpy reads it when needed
    # elsewhere a new tensor, not a view into the dataset (nothing writes samples back)
    return Tensor._wrap(_row_kernel()(t._data(), i % n), t.device)


def gathered_batch(dataset, indices):
    """default_collate([dataset[i] for i in indices]) for a TensorDataset, gathered at
    once: [t[indices] for each tensor], which is what stacking the samples' rows makes.
    None where that shortcut does not apply (a subclass, a tensor that is not a CPU
    one numpy may read, an index that is not an in-range integer, no indices): the
    loader then fetches sample by sample, with PyTorch's errors."""
    Tensor = _late()[2]
    if type(dataset) is not TensorDataset or not indices:
        return None
    try:
        rows = np.fromiter((operator.index(i) for i in indices), np.int64, len(indices))
    except (TypeError, ValueError):
        return None
    batch = []
    for t in dataset.tensors:
        host = _host_rows(t) if isinstance(t, Tensor) and not t.requires_grad else None
        if host is None or rows.min() < -len(host) or rows.max() >= len(host):
            return None
        batch.append(Tensor._wrap(_device.place(host[rows], t.device), t.device))
    return batch


def _host_rows(t):
    """The values of CPU tensor `t` (at least 1-d) as numpy reads them in place, or None
    where numpy must not read them (_host_ops._numpy_may_read)."""
    if t.dim() == 0 or t.device.type != "cpu" or not _late()[0].top_level():
        return None
    values = t._data()      # (a pending data set is computed here once, as samples would)
    return np.asarray(values) if _numpy_may_read((t,)) else None


class StackDataset(Dataset):
    """Sample i gathers sample i of each dataset, as a tuple (positional) or dict (keywords)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        self._length = len(datasets[0])
        if any(self._length != len(d) for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """The datasets one after another; an index is located with the cumulative sizes."""

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets streamed one after another."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        # batch fetch when the underlying dataset supports it
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def _lengths_from_fractions(fractions, total):
    """Floor each share, then hand out the remainder one by one from the first split."""
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(int(math.floor(total * frac)))
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, n in enumerate(lengths):
        if n == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                          "dataset.")
    return lengths


def random_split(dataset, lengths, generator=None):
    """Disjoint random subsets of the given lengths (or fractions summing to 1)."""
    from ..._factories import randperm
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[end - n:end])
            for end, n in zip(itertools.accumulate(lengths), lengths)]
