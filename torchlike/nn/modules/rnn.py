"""RNN, LSTM, GRU and their cells: parameters named as PyTorch names them
(weight_ih_l0, bias_hh_l1_reverse, weight_hr_l0 ...) and default initialisation."""
import math
import numbers
import warnings

import numpy as np

from ... import _factories
from .. import init
from .._functional_layers import rnn as R
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        gate_size = R.GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []

        def new(shape):
            return Parameter(_factories.empty(shape, device=device, dtype=dtype))
        for layer in range(num_layers):
            for d in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if d == 1 else ""
                params = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden))]
                if bias:
                    params += [(f"bias_ih_l{layer}{suffix}", (gate_size,)),
                               (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    params.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in params:
                    setattr(self, name, new(shape))
                self._flat_weights_names.extend(name for name, _ in params)
                self._all_weights.append([name for name, _ in params])
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Kept for scripts that call it; weights are never re-packed here."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _state_shape(self, input, size, time_major=False):
        directions = 2 if self.bidirectional else 1
        batched = input.dim() == 3
        batch_first = self.batch_first and not time_major
        batch = input.shape[0 if batch_first else 1] if batched else None
        return (self.num_layers * directions,) + ((batch,) if batched else ()) + (size,)

    def _zeros_state(self, input, size, time_major=False):
        return _factories.zeros(self._state_shape(input, size, time_major), dtype=input.dtype,
                                device=input.device)

    def _check(self, input, hx_shapes, time_major=False):
        name = type(self).__name__
        if input.dim() not in (2, 3):
            what = "tensor " if self.mode.startswith("RNN") else ""    # PyTorch's wording
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             f"{what}instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        for index, (hx, size) in enumerate(hx_shapes):
            expected = self._state_shape(input, size, time_major)
            if tuple(hx.shape) != expected:
                which = f"[{index}]" if self.mode == "LSTM" else ""     # (h, c): which one
                raise RuntimeError(f"Expected hidden{which} size {expected}, got "
                                   f"{list(hx.shape)}")

    def _noise(self, input, time_major=False):
        if not (self.training and self.dropout and self.num_layers > 1):
            return []
        directions = 2 if self.bidirectional else 1
        width = (self.proj_size or self.hidden_size) * directions
        batch_first = self.batch_first and not time_major
        length = input.shape[1 if (batch_first and input.dim() == 3) else 0]
        shape = (length,) + ((input.shape[0 if batch_first else 1],)
                             if input.dim() == 3 else (1,)) + (width,)
        return [_factories.rand(shape, dtype=input.dtype, device=input.device)
                for _ in range(self.num_layers - 1)]

    def _run(self, input, hx, lengths=None):
        return R.rnn(self.mode, input, hx, self._flat_weights, layers=self.num_layers,
                     directions=2 if self.bidirectional else 1, has_bias=bool(self.bias),
                     proj=self.proj_size, dropout_p=self.dropout if self.training else 0.0,
                     batch_first=self.batch_first and lengths is None,
                     noise=self._noise(input, lengths is not None), lengths=lengths)

    def _state_sizes(self):
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return [real_hidden, self.hidden_size] if self.mode == "LSTM" else [self.hidden_size]

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if hx is None:              # zero states, made inside the op
            self._check(input, ())
            return self._run(input, None)
        hx = hx if self.mode == "LSTM" else (hx,)
        self._check(input, list(zip(hx, self._state_sizes())))
        return self._run(input, hx if self.mode == "LSTM" else hx[0])

    def _forward_packed(self, packed, hx):
        """Unpack to padded time-major (sorted order), run with per-sequence lengths so
        that padding never touches the state, and pack the output the same way."""
        sizes = packed.batch_sizes.tolist()
        steps, batch = len(sizes), sizes[0]
        data = packed.data
        rows = _factories.tensor(np.asarray([t * batch + j for t, n in enumerate(sizes)
                                             for j in range(n)], np.int64), device=data.device)
        padded = R.unpack_rows(data, rows, steps, batch, False, None)
        lengths = _factories.tensor([sum(1 for n in sizes if n > j) for j in range(batch)],
                                    device=data.device)
        state_sizes = self._state_sizes()
        if hx is None:
            hx = tuple(self._zeros_state(padded, n, time_major=True) for n in state_sizes)
        else:
            hx = hx if self.mode == "LSTM" else (hx,)
            if packed.sorted_indices is not None:
                hx = tuple(h.index_select(1, packed.sorted_indices) for h in hx)
        self._check(padded, list(zip(hx, state_sizes)), time_major=True)
        out, h = self._run(padded, hx if self.mode == "LSTM" else hx[0], lengths)
        out = R.pack_rows(out, rows, False, "CatBackward0")
        if packed.unsorted_indices is not None:
            h = tuple(s.index_select(1, packed.unsorted_indices) for s in h) \
                if self.mode == "LSTM" else h.index_select(1, packed.unsorted_indices)
        return PackedSequence(out, packed.batch_sizes, packed.sorted_indices,
                              packed.unsorted_indices), h


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias

        def new(shape):
            return Parameter(_factories.empty(shape, device=device, dtype=dtype))
        self.weight_ih = new((num_chunks * hidden_size, input_size))
        self.weight_hh = new((num_chunks * hidden_size, hidden_size))
        if bias:
            self.bias_ih = new((num_chunks * hidden_size,))
            self.bias_hh = new((num_chunks * hidden_size,))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _weights(self):
        w = [self.weight_ih, self.weight_hh]
        return w + ([self.bias_ih, self.bias_hh] if self.bias else [])

    def _step(self, mode, input, hx, states):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.dim()}D instead")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _factories.zeros((input.shape[0], self.hidden_size), dtype=input.dtype,
                                     device=input.device)
            hx = (zeros, zeros) if states == 2 else zeros
        elif unbatched:
            hx = tuple(h.unsqueeze(0) for h in hx) if states == 2 else hx.unsqueeze(0)
        out = R.rnn_cell(mode, input, hx, self._weights(), bool(self.bias))
        if unbatched:
            out = tuple(o.squeeze(0) for o in out) if states == 2 else out.squeeze(0)
        return out


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        mode = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}.get(self.nonlinearity)
        if mode is None:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(mode, input, hx, 1)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        return self._step("LSTM", input, hx, 2)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, hx, 1)
