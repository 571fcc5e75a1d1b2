"""nn.utils.rnn: PackedSequence and packing/padding of variable-length sequences.

A PackedSequence holds, time step by time step, the rows of the sequences still running
(longest first), as PyTorch lays them out. Packing and unpacking are each one gather or
scatter whose row indices are computed on the host from the lengths.
"""
import collections

import numpy as np

from ... import _dtype as dt
from ... import _factories
from ..._tensor import Tensor
from .._functional_layers.rnn import pack_rows, unpack_rows


class PackedSequence(collections.namedtuple(
        "PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        indices = [None if i is None else i.to(device) for i in
                   (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _invert(permutation):
    order = np.asarray(permutation.tolist(), np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return _factories.tensor(inverse, dtype=dt.int64, device=permutation.device)


def _batch_sizes(sorted_lengths):
    steps = sorted_lengths[0] if sorted_lengths else 0
    return [sum(1 for n in sorted_lengths if n > t) for t in range(steps)]


def _rows(batch_sizes, batch, order=None):
    """Flat (time-major) positions of the packed rows, in packed order."""
    return [t * batch + (j if order is None else order[j])
            for t, n in enumerate(batch_sizes) for j in range(n)]


def _index(values, device):
    return _factories.tensor(np.asarray(values, np.int64), dtype=dt.int64, device=device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = None, None
    else:
        order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
        sorted_indices = _index(order, input.device)
    if lengths and min(lengths) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    sorted_lengths = sorted(lengths, reverse=True)
    sizes = _batch_sizes(sorted_lengths)
    batch = input.shape[0 if batch_first else 1]
    data = pack_rows(input, _index(_rows(sizes, batch, order), input.device), batch_first)
    return PackedSequence(data, _index(sizes, "cpu"), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    sizes = sequence.batch_sizes.tolist()
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    order = None if sequence.sorted_indices is None else sequence.sorted_indices.tolist()
    if sequence.unsorted_indices is not None:
        grad_fn = "IndexSelectBackward0"
    else:
        grad_fn = "TransposeBackward0" if batch_first else "torch::autograd::CopySlices"
    rows = _index(_rows(sizes, batch, order), sequence.data.device)
    padded = unpack_rows(sequence.data, rows, steps, batch, batch_first, grad_fn, padding_value)
    sorted_lengths = [sum(1 for n in sizes if n > j) for j in range(batch)]
    lengths = [0] * batch
    for j, n in enumerate(sorted_lengths):
        lengths[j if order is None else order[j]] = n
    return padded, _index(lengths, "cpu")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length tensors (L_i, *) into (max L, B, *) (or (B, max L, *))."""
    from ... import cat, stack
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = _factories.full((missing,) + tuple(s.shape[1:]), padding_value,
                                   dtype=s.dtype, device=s.device)
            s = cat([s, fill]) if padding_side == "right" else cat([fill, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def invert_permutation(permutation):
    """The inverse of a 1-D permutation tensor (None stays None)."""
    if permutation is None:
        return None
    from ... import arange
    output = _factories.empty_like(permutation)
    output.scatter_(0, permutation, arange(permutation.numel(), device=permutation.device))
    return output
