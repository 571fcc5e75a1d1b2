"""Optimizers whose update is elementwise per parameter: one compiled call per group.

A subclass supplies `update(flags, param, grad, states, s)`, a pure JAX function defined
at module level. `flags` holds the static choices (maximize, amsgrad ...); everything a
scheduler may change between steps (lr, betas, momentum) and everything that depends on
the step count travels in the vector `s` as traced values, so changing lr never
retraces. The scalar arithmetic PyTorch does in Python double precision (bias
corrections, step sizes) is done on the host with the same expressions, and `s` is cast
to the parameter's compute dtype inside the kernel, which is where PyTorch casts a
Python scalar operand. The whole group (every parameter's update) is one jitted call.

Compile time is most of a first step's cost, so the group program is kept small:
parameters whose rows are equal (the usual case: one group, one step count) share one
row of the table and its converted scalars, and the new 0-dim state values come out once
per row; the branch of `lerp` is chosen on the host from the weight's value.

0-dim state entries ('step', NAdam's 'mu_product') stay tensors, as in PyTorch, but
their values are mirrored on the host, so reading them never waits for the device.

Planning costs 3-5 us of Python per parameter, so an eager step remembers its plan and
the next one reuses it (the same static arguments) when nothing it depends on changed,
computing only the scalar rows anew: see `_Steady`.
"""
import itertools
import operator
import struct

import jax
import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor
from .._lazy import Deferred
from .. import _jax_bridge
from .. import _dtype
from .. import _device
from .._factories import tensor as _make_tensor
from ..autograd.grad_mode import set_grad_enabled
from . import ahead
from ._donation import make_private
from .optimizer import _TENSOR_GRAD, Optimizer

_LOW_PRECISION = (np.dtype(np.float16), _dtype.bfloat16.np)


def _compute_dtype(dtype):
    # PyTorch computes half and bfloat16 elementwise ops in float32 ("opmath"), and
    # writes each kernel's result in the parameter's dtype (see `stored`)
    return np.dtype(np.float32) if dtype in _LOW_PRECISION else dtype


class _Tracing:
    """What the helpers below need to know about the parameter whose update is being
    traced. Set only while `_group_update` traces (its jit cache key holds both).

    storage       the storage dtype of a low-precision parameter, or None. PyTorch runs
                  an update as a sequence of kernels, each computing in float32 and
                  writing its result in the parameter's dtype; the update rules mark
                  those writes with `stored`.
    lerp_formula  which of lerp's two formulas the weight selects (`lerp_formula`), or
                  None when the weight is only known at run time.
    reciprocals   1 / each entry of the parameter's row (`div_scalar`).
    """
    storage = None
    lerp_formula = None
    reciprocals = None      # 1 / the parameter's row, in its compute dtype


_tracing = _Tracing()


def stored(x):
    """x as a PyTorch kernel writes it into a float16/bfloat16 tensor: rounded to that
    dtype (a convert pair, which XLA keeps on CPU; its reduce_precision flushes float16
    subnormals). Also a scalar that PyTorch converts to the tensor's dtype first (add_'s
    alpha, a number added to a tensor). Nothing for float32/float64 parameters."""
    low = _tracing.storage
    return x if low is None else x.astype(low).astype(x.dtype)


def _as_real(x):
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


def _as_complex(x, dtype):
    return jax.lax.complex(x[..., 0], x[..., 1]).astype(dtype)


def _group_update(params, grads, states, table, *, update, plans, scalar_out):
    """Apply `update` to every parameter of a group. `plans[i]` is parameter i's
    (flags, index of its row in `table`, lerp formula, how many state arrays it has);
    `states` holds every parameter's state arrays in one flat list (JAX's call takes
    and returns flat lists faster than nested ones); `scalar_out` lists (row, column,
    dtype) of the new values of 0-dim state entries, which the host computed. Returns
    the parameters' new states (flat, in order), the new parameters and one array per
    entry of `scalar_out`. (The states come first: JAX gives each donated buffer to the
    first output of its shape and dtype, so with the parameters first a state buffer
    took a new parameter, and XLA copied every old state before the update.)"""
    converted = {}    # compute dtype -> (the table in it, its reciprocals), once for all rows
    unpacked = {}     # (row, compute dtype) -> its scalars and reciprocals, indexed once
    new_params, new_states = [], []
    start = 0
    for p, g, (flags, row, formula, count) in zip(params, grads, plans):
        st, start = tuple(states[start:start + count]), start + count
        dtype = p.dtype
        is_complex = jnp.iscomplexobj(p)
        if is_complex:   # as PyTorch: complex numbers update as pairs of reals
            p, g, st = _as_real(p), _as_real(g), tuple(_as_real(x) for x in st)
        real_dtype = p.dtype
        compute = _compute_dtype(real_dtype)
        scalars = unpacked.get((row, compute))
        if scalars is None:
            in_compute = converted.get(compute)
            if in_compute is None:
                in_compute = table.astype(compute)
                in_compute = converted[compute] = (in_compute, 1 / in_compute)
            # (a list of the row's scalars: the rows' parameters index it, not the table)
            scalars = unpacked[row, compute] = tuple(
                [t[row, k] for k in range(table.shape[1])] for t in in_compute)
        s, _tracing.reciprocals = scalars
        _tracing.storage = real_dtype if compute != real_dtype else None
        _tracing.lerp_formula = formula
        try:
            new_p, new_st = update(flags, _as(p, compute), _as(g, compute),
                                   tuple(_as(x, compute) for x in st), s)
        finally:
            _tracing.storage = _tracing.lerp_formula = _tracing.reciprocals = None
        new_p = _as(new_p, real_dtype)
        old_dtypes = [x.dtype for x in st] + [real_dtype] * (len(new_st) - len(st))
        new_st = tuple(_as(x, d) for x, d in zip(new_st, old_dtypes))
        if is_complex:
            new_p = _as_complex(new_p, dtype)
            new_st = tuple(_as_complex(x, dtype) for x in new_st)
        new_params.append(new_p)
        new_states += new_st
    new_scalars = [table[row, column].astype(d) for row, column, d in scalar_out]
    return new_states, new_params, new_scalars


def _as(x, dtype):
    """x in `dtype` (no conversion traced where it has it already)."""
    return x if x.dtype == dtype else x.astype(dtype)


_STATIC = ("update", "plans", "scalar_out")
# The update as eager steps run it: the new optimizer states are written into the
# buffers of the old ones (donated; `_donation.make_private` makes that safe). The
# parameters are not donated: during a training loop's step() the graph of the loss just
# backwarded is alive, and its pending forward values still read the old parameters
# (what a later read of them must see), so donating them meant copying every parameter
# every step (15-20% of the eager MLP, LSTM and transformer steps). Inside a
# torchlike.compile trace there is nothing to donate: the traced update keeps its inputs.
_run_group = jax.jit(_group_update, static_argnames=_STATIC, donate_argnums=(2,))
_run_group_traced = jax.jit(_group_update, static_argnames=_STATIC)


# Matching PyTorch bit for bit. PyTorch runs each in-place op as its own kernel, so a
# product is rounded before the next op adds to it, except inside one op (add_ with
# alpha, addcmul_, lerp_), which computes a fused multiply-add. XLA's CPU and GPU
# backends fuse any product feeding an add, and turn division by a scalar into a
# multiplication by its reciprocal. The helpers below steer them to PyTorch's roundings;
# every update also writes the product that PyTorch fuses first in a sum, which is the
# one LLVM fuses. Each scalar row ends with a traced -0.0 (`s[-1]`) for `rounded`.

def rounded(x, s):
    """x rounded on its own before it takes part in a sum. Adding a traced -0.0 is exact
    for every x; the compiler can't drop it, and at most fuses x's product with it,
    so a following add sees a rounded operand that is not a product. It is also the
    end of a PyTorch kernel (mul_), so a low-precision parameter's value is `stored`."""
    return stored(x + s[-1])


def div_scalar(a, s, column):
    """a / s[column] correctly rounded for a traced scalar s[column]. XLA computes
    a * (1/b); one Newton correction with an exact residual restores the quotient
    (Markstein). The reciprocal comes from the group's table of reciprocals, computed
    for all rows at once: XLA does not fuse a scalar division into an elementwise
    loop, so one per parameter would be a kernel (and a compile) per parameter."""
    b = s[column]
    r = 1 / b if _tracing.reciprocals is None else _tracing.reciprocals[column]
    q = a * r
    residual = a - q * b
    return residual * r + q


def negate(x):
    """The gradient negated for `maximize`. Written 0 - x because LLVM moves a plain
    negation into the next product and then fuses a different multiply-add than PyTorch
    does; only the sign of an exactly zero gradient differs, which no update can see."""
    return 0 - x


def lerp(start, end, weight):
    """PyTorch's lerp: two formulas, chosen by |weight| < 0.5, for accuracy near both ends.
    The weight is a hyperparameter, so the host usually knows the choice: then only that
    formula is compiled (a smaller program, the same values)."""
    diff = end - start
    near_start = _tracing.lerp_formula
    if near_start is None:     # decided at run time
        near_start = jnp.abs(weight) < 0.5
        return jnp.where(near_start, weight * diff + start, (weight - 1) * diff + end)
    return weight * diff + start if near_start else (weight - 1) * diff + end


def lerp_formula(weight, compute_dtype):
    """True when `lerp` takes its first formula for this weight, as the kernel decides it:
    on the weight converted to the compute dtype (0.49999999 is 0.5 in float32). None for
    a traced weight (inside torchlike.compile), which the kernel decides at run time."""
    if not isinstance(weight, (int, float, np.number)):
        return None
    return bool(abs(np.dtype(compute_dtype).type(weight)) < 0.5)


class ElementwiseOptimizer(Optimizer):
    """Subclasses define:

    update            pure JAX update (a module-level function, given as staticmethod)
    scalar_state      names of the 0-dim state tensors mirrored on the host
    new_state(p, group)              -> the initial state dict, or None for no state
    array_names(group, state)        -> state entries fed to `update`, in order
    output_names(group, state)       -> state entries `update` returns (default: the same)
    flags(group, state)              -> hashable static choices
    lerp_weight                      the row index of `lerp`'s weight, if `update` uses it
    scalars(group, state, host)      -> (row of floats for `update`, {name: new value}
                                        for the scalar_state entries)

    `flags`, `scalars`, `array_names`, `output_names` and whether `new_state` makes any
    state read only the group, the state's keys, the host values of its scalar_state
    entries and the parameter's dtype: a step repeats the last step's plan when none of
    these changed (`_Steady`), computing the row and flags once per class of parameters.
    """

    update = None
    scalar_state = ("step",)
    # the index in a row of the weight the update passes to `lerp`, if it calls it
    lerp_weight = None
    # (key, value) pairs that groups pickled by older versions may lack
    setstate_defaults = ()
    # `scalars` is plain arithmetic on the host values and reads no other per-parameter
    # state: inside a trace it may run once on vectors (`_vector_rows`)
    vector_scalars = False

    def output_names(self, group, state):
        return self.array_names(group, state)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in self.setstate_defaults:
                group.setdefault(key, value)
        self._host_values = {}
        self._steady = {}
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for name in self.scalar_state:  # old checkpoints stored plain numbers
                    if name in p_state and not isinstance(p_state[name], Tensor):
                        p_state[name] = _make_tensor(float(p_state[name]),
                                                     dtype=scalar_dtype())

    # -- host mirror of 0-dim state -----------------------------------------------------
    def _host(self):
        cache = self.__dict__.get("_host_values")
        if cache is None:
            cache = self._host_values = {}
        return cache

    def read_scalar(self, value):
        """The number in a 0-dim state tensor, without a device round trip when this
        optimizer wrote it last: the tensor still has that storage, whose generation
        (bumped by every write) proves nobody else wrote it. (Its version counter would
        not see `.data` given another tensor.)"""
        if not isinstance(value, Tensor):
            return float(value)
        cache = self._host()
        entry = cache.get(id(value))
        st = value._storage
        if entry is not None and entry[0] is value and entry[1] is st \
                and entry[2] == st.generation:
            return entry[3]
        number = value.item()
        cache[id(value)] = (value, st, st.generation, number)
        return number

    def _write_scalar(self, tensor, array, number, device, write):
        held_on = tensor.device
        if held_on is not device and held_on != device:   # (identity first: == is slow)
            array = _device.place(array, tensor.device)
        write(tensor, array)
        if not isinstance(number, jax.core.Tracer):
            st = tensor._storage
            self._host()[id(tensor)] = (tensor, st, st.generation, number)

    @staticmethod
    def _traced_scalar(value):
        """Inside torchlike.compile's trace, a 0-dim state entry is a traced value: the
        host arithmetic runs on it in float64, as Python's would."""
        if not isinstance(value, Tensor):
            return float(value)
        return _jax_bridge.value(value).astype(np.float64)

    # -- the step -----------------------------------------------------------------------
    def step(self, closure=None):
        ahead.finish(self)
        loss = self._call_closure(closure)
        # the update itself records no history (unless the optimizer is `differentiable`)
        # last step's plans, by (group index, device): those this step does not renew
        # are dropped (see _Steady)
        remembered, self._steady = self.__dict__.get("_steady", {}), {}
        with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            for index, group in enumerate(self.param_groups):
                for device, params, grads in _by_device(group["params"]):
                    key = (index, device)
                    self._step_params(group, params, device, key, remembered.get(key), grads)
        return loss

    def _state_of(self, p, group):
        state = self.state.get(p)
        if not state:
            initial = self.new_state(p, group)
            if initial is None:
                return None
            state = self.state[p]
            state.update(initial)
        return state

    def state_tensor(self, p, state, name):
        """The tensor of state entry `name` whose value is fed to `update`."""
        return state[name]

    def _plan(self, group, params, states, read, traced):
        """The static side of a group update: per parameter its (flags, row, lerp
        formula, number of state arrays), the table of scalar rows, what each parameter
        writes back (parameter, state, names of the state outputs, indices of its new
        0-dim values among the table's outputs), and its new 0-dim state values
        {name: number}."""
        plans, writes, new_hosts, rows = [], [], [], _Rows()
        blocks = self._vector_rows(group, states, rows) if traced else {}
        # Eager: an optimizer whose `scalars` reads only the host values computes each
        # distinct row once (one per group in the usual case of one step count), not
        # once per parameter. The key holds the values' bits (0.0 and -0.0 differ).
        same_values = {} if self.vector_scalars and not traced else None
        scalar_state = self.scalar_state
        for i, (p, state) in enumerate(zip(params, states)):
            found = blocks.get(i)
            if found is None and same_values is not None:
                names = tuple([n for n in scalar_state if n in state])
                values = [read(state[n]) for n in names]
                key = (names, tuple([state[n].dtype for n in names]),
                       struct.pack(f"{len(values)}d", *values))
                found = same_values.get(key)
                if found is None:
                    found = same_values[key] = self._row(group, state, rows, dict(
                        zip(names, values)), traced)
            if found is None:
                host = {n: read(state[n]) for n in scalar_state if n in state}
                found = self._row(group, state, rows, host, traced)
            index, new_host, columns = found
            plans.append((self.flags(group, state), index, rows.lerp_formula(
                index, self.lerp_weight, p.dtype), len(self.array_names(group, state))))
            outputs = tuple([rows.output(index, column, d) for column, d in columns])
            writes.append((p, state, self.output_names(group, state), outputs))
            new_hosts.append(new_host)
        return plans, rows, writes, new_hosts

    def _row(self, group, state, rows, host, traced):
        """One parameter's scalar row from its host values: (its index in `rows`, the
        new 0-dim state values as their tensors store them, their columns)."""
        row, new_host = self.scalars(group, state, host)
        row = list(row)
        columns = _append_new_values(row, new_host, state, traced)
        return rows.add(row, traced), new_host, columns

    def _vector_rows(self, group, states, rows):
        """Inside a trace the step counts are traced values, one per parameter, so rows
        cannot be shared by value. For an optimizer whose `scalars` is plain arithmetic
        on the host values (`vector_scalars`), it runs once on the vector of the
        parameters' values instead of once per parameter: the program computes each
        bias correction once per group (one fusion, not one per parameter), and the
        trace is shorter. Parameters whose counts are one array (as a step leaves them:
        torchlike/_compile/aliases.py) share one row of it, so their updates are the
        same XLA code, which XLA compiles once for all parameters of a shape. Returns
        {parameter index: (row index, new host values, their columns)}; parameters with
        other state entries or dtypes form their own blocks."""
        if not self.vector_scalars:
            return {}
        kinds = {}
        for i, state in enumerate(states):
            names = tuple(n for n in self.scalar_state if n in state)
            kinds.setdefault((names, tuple(type(state[n]) for n in names),
                              tuple(getattr(state[n], "dtype", None) for n in names)),
                             []).append(i)
        found = {}
        for (names, *_), members in kinds.items():
            if not names:
                continue            # (nothing traced: rows shared by value)
            sharing = {}
            for i in members:
                sharing.setdefault(tuple(map(_identity, (states[i][n] for n in names))),
                                   []).append(i)
            first = states[members[0]]
            host = {n: _traced_vector([states[same[0]][n] for same in sharing.values()])
                    for n in names}
            row, new_host = self.scalars(group, first, host)
            row = list(row)
            columns = _append_new_values(row, new_host, first, True)
            start = rows.add_block(row, len(sharing))
            for k, same in enumerate(sharing.values()):
                new_values = {n: v[k] for n, v in new_host.items()}
                for i in same:
                    found[i] = (start + k, new_values, columns)
        return found

    def _step_params(self, group, params, device, key=None, steady=None, grads=None):
        if grads is None:
            grads = [p.grad for p in params]
        if any(map(_is_sparse_of, grads)):
            raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
        # under torchlike.compile the step count is traced, so the scalars are too
        traced = not _jax_bridge.top_level()
        # (a traced step writes the state through the trace: the eager one after it plans)
        if steady is not None and not traced:
            found = steady.repeat(self, group, params)
            if found is not None:
                steady.run(self, params, grads, device, *found)
                self._steady[key] = steady
                return
        states = []
        for p in params:
            state = self._state_of(p, group)
            states.append(state if state is not None else {})
        plans, rows, writes, new_hosts = self._plan(
            group, params, states, self._traced_scalar if traced else self.read_scalar,
            traced)
        plans = tuple(plans)
        names = [self.array_names(group, state) for state in states]
        param_arrays = [p._data() for p in params]
        grad_arrays = [g._data() for g in grads]
        # the tensors the state arrays come from stay alive until the update is called:
        # each is the one holder of its array that `make_private` allows
        state_tensors = [[self.state_tensor(p, state, n) for n in state_names]
                         for p, state, state_names in zip(params, states, names)]
        state_arrays = [t._data() for tensors in state_tensors for t in tensors]
        run = _run_group_traced
        if not traced:
            run = _run_group
            make_private(state_arrays)
        with ahead.tracing:         # (a compile ahead may be tracing the same update)
            new_states, new_params, new_scalars = run(
                param_arrays, grad_arrays, state_arrays, rows.table(traced),
                update=type(self).update, plans=plans, scalar_out=tuple(rows.outputs))
        # (outside a trace, a write is the plain one: _write asks on every call)
        write = Tensor._write if traced else Tensor._write_now
        new_states = iter(new_states)
        for (p, state, out_names, outputs), new_host, new_p in zip(
                writes, new_hosts, new_params):
            write(p, new_p)
            for name, array in zip(out_names, new_states):
                held = state.get(name)
                if isinstance(held, Tensor):
                    write(held, array)
                else:
                    state[name] = Tensor._wrap(array, device)
            for (name, number), output in zip(new_host.items(), outputs):
                self._write_scalar(state[name], new_scalars[output], number, device, write)
        if traced or key is None:
            return
        steady = _Steady.remember(self, group, params, states, plans, rows, writes, new_hosts,
                                  names, device)
        if steady is not None:
            self._steady[key] = steady

    # -- the state a first step starts from (torchlike.compile's first call) ------------
    def first_step_state(self, p, group):
        """The state step() makes for `p` before its first update, where an update from
        it is exactly the first step (it is: step() makes it and updates from it), or
        None where the update also makes entries of its own. torchlike.compile traces a
        first call with it as inputs, so that the first call's program serves every
        later call too (torchlike/_compile/first_step.py)."""
        state = self.new_state(p, group)
        if not state or not set(self.output_names(group, state)) <= set(state):
            return None
        return state

    # -- the first step's update, compiled ahead (ahead.py) -------------------------------
    def zero_grad(self, set_to_none=True):
        super().zero_grad(set_to_none)
        ahead.start(self)

    def predicted_updates(self):
        """The group updates the next step() would run if every parameter that requires
        grad gets a dense gradient of its own dtype: (arguments as shapes, static
        arguments) per group and device, with each missing state as new_state makes it."""
        aval = _aval
        for group in self.param_groups:
            by_device = {}
            for p in group["params"]:
                if p.requires_grad:
                    by_device.setdefault(p.device, []).append(p)
            for params in by_device.values():
                states = [self.state.get(p) or self.new_state(p, group) or {} for p in params]
                plans, rows, _, _ = self._plan(group, params, states, _read_fresh, False)
                state_avals = [aval(self.state_tensor(p, state, n))
                               for p, state in zip(params, states)
                               for n in self.array_names(group, state)]
                params_avals = [aval(p) for p in params]
                yield ((params_avals, params_avals, state_avals, rows.table(False)),
                       dict(update=type(self).update, plans=tuple(plans),
                            scalar_out=tuple(rows.outputs)))


class _Steady:
    """Last eager step of one group on one device, remembered so that the next step can
    run its plan again (the same `plans` object) after a few identity checks per
    parameter, computing only each class's scalar row anew.

    A parameter's plan depends on the group's hyperparameters, the parameter's dtype,
    its state's keys and the values of its 0-dim state entries: `flags`, `scalars`,
    `array_names`, `output_names` and whether `new_state` makes state read nothing else
    (see ElementwiseOptimizer). Parameters that agree on all of these and on their plan
    form a class, and one member stands for its class: the row, flags and names computed
    from it must come out as last time, else the general path plans the step. The 0-dim
    values are the ones the step wrote while each tensor keeps its storage and the
    storage its generation, which every write bumps (a `.data` swap or a reload brings
    another storage; one shared with numpy reads as a new generation every time). No
    array is held: a held array would count as a holder where torchlike.compile decides
    what it may donate.

    Each step pays this record's Python per parameter, between a forward and a
    backward that leave the processor's caches cold: the checks are C-level passes
    (`map`) over flat lists made here, and the update and its write-back (`run`) work on
    such lists too: the state entries fed to the update (read again each step: the user
    may replace one), and the 0-dim tensors with the output and host value each gets."""

    __slots__ = ("group", "params", "dtypes", "state_keys", "state_values", "states",
                 "lens", "keys", "slot_states", "slot_names", "tensors", "storages",
                 "generations", "plans", "classes", "hosts", "row_count", "scalar_out",
                 "entries", "scalar_writes", "weights", "scalar_device")

    @classmethod
    def remember(cls, opt, group, params, states, plans, rows, writes, new_hosts, names,
                 device):
        """The record of a planned step just written back, or None where the next step
        could not repeat it safely."""
        if any([isinstance(v, Tensor) for v in group.values()]):
            return None             # (a tensor hyperparameter: left to the general path)
        self = object.__new__(cls)
        self.group, self.params, self.states, self.plans = group, params, states, plans
        self.dtypes = [p._dtype for p in params]
        # opt.state's entries, in order: while they are the same objects, every
        # parameter has the same state dict (or none) as now
        self.state_keys, self.state_values = list(opt.state), list(opt.state.values())
        self.lens = [len(state) for state in states]
        self.slot_states, self.slot_names, self.tensors, self.classes, self.hosts = \
            [], [], [], [], []
        self.scalar_writes, self.weights = [], []
        # the state tensors fed to the update: entries (state, name) of the state dicts,
        # or (parameter, state, name) where a subclass defines `state_tensor`
        self.entries = []
        plain_entries = type(opt).state_tensor is ElementwiseOptimizer.state_tensor
        # whether every key of every state is read each step (an update's input or a
        # 0-dim entry): then a state of the same size has the same keys
        covered = plain_entries
        index_of = {}
        for p, state, plan, (_, _, out_names, outputs), new_host, state_names in zip(
                params, states, plans, writes, new_hosts, names):
            # no state: the general path asks `new_state` again each step, into a new dict
            raw = opt.state.get(p)
            stateless = raw is not state
            if stateless and (raw or state):
                return None
            present = [n for n in opt.scalar_state if n in state]
            if set(new_host) != set(present):
                return None         # (a 0-dim entry not rewritten: its class may disagree)
            if tuple(out_names) != tuple(state_names):
                return None         # (the update's outputs are written where its inputs were)
            covered = covered and set(state) == set(present) | set(state_names)
            host_names = tuple(new_host)
            key = (plan, tuple(state), outputs, p._dtype, tuple(state_names), stateless,
                   host_names)
            found = index_of.get(key)
            if found is None:
                found = index_of[key] = len(self.classes)
                flags, row, formula, _ = plan
                width = len(rows.rows[row]) - len(host_names)
                self.classes.append((
                    p, state, flags, row, formula, tuple(state_names), stateless,
                    host_names, tuple([state[n].dtype.np.type for n in host_names]), width,
                    struct.Struct(f"{len(rows.rows[row])}d"),
                    _compute_dtype(np.dtype(p.dtype.to_real().np))))
                self.hosts.append(new_host)
                self.weights.append(None if opt.lerp_weight is None else
                                    rows.rows[row][opt.lerp_weight])
            for name in present:
                self.slot_states.append(state)
                self.slot_names.append(name)
                self.tensors.append(state[name])
                self.scalar_writes.append((found, name, outputs[host_names.index(name)]))
            self.entries += [(state, n) if plain_entries else (p, state, n)
                             for n in state_names]
        if plain_entries:           # (run tells the two kinds apart by their type)
            self.entries = ([state for state, _ in self.entries],
                            [name for _, name in self.entries])
        self.keys = None if covered else [tuple(state) for state in states]
        self.storages = [t._storage for t in self.tensors]
        self.generations = [st.generation for st in self.storages]
        # the 0-dim tensors sit on the update's device (else each write moves its value)
        self.scalar_device = all([st.device is device or st.device == device
                                  for st in self.storages])
        self.row_count, self.scalar_out = len(rows.rows), tuple(rows.outputs)
        return self

    def repeat(self, opt, group, params):
        """(the state tensors fed to the update, the table of scalar rows, the new 0-dim
        values per class) for this step where the remembered plan still holds, else
        None."""
        state = opt.state
        entries = self.entries
        try:
            if group is not self.group or len(params) != len(self.params) \
                    or not all(map(_is, params, self.params)) \
                    or list(map(_dtype_of, params)) != self.dtypes \
                    or len(state) != len(self.state_keys) \
                    or not all(map(_is, state, self.state_keys)) \
                    or not all(map(_is, state.values(), self.state_values)) \
                    or list(map(len, self.states)) != self.lens \
                    or self.keys is not None and list(map(tuple, self.states)) != self.keys \
                    or not all(map(_is, map(_getitem, self.slot_states, self.slot_names),
                                   self.tensors)) \
                    or not all(map(_is, map(_storage_of, self.tensors), self.storages)) \
                    or list(map(_generation_of, self.storages)) != self.generations \
                    or any(map(isinstance, group.values(), _TENSOR_TYPE)):
                return None
            # (a missing key: KeyError, and the general path plans the step)
            tensors = list(map(_getitem, *entries)) if type(entries) is tuple else \
                [opt.state_tensor(p, st, n) for p, st, n in entries]
        except KeyError:
            return None
        rows, index_of, hosts, weights = [], {}, [], self.weights
        # each class's row as _row and _Rows.add make it, for the same plan
        for k, ((p, st, flags, row, formula, state_names, stateless, host_names, np_types,
                 width, packing, compute), host) in enumerate(zip(self.classes, self.hosts)):
            if stateless and opt.new_state(p, group) is not None \
                    or opt.flags(group, st) != flags \
                    or opt.array_names(group, st) != state_names \
                    or opt.output_names(group, st) != state_names:
                return None
            values, new_host = opt.scalars(group, st, dict(host))
            values = list(values)
            if len(values) != width or tuple(new_host) != host_names:
                return None
            for name, np_type in zip(host_names, np_types):     # (_append_new_values)
                number = new_host[name] = float(np_type(new_host[name]))
                values.append(number)
            index = index_of.setdefault(packing.pack(*values), len(rows))
            if index == len(rows):
                rows.append(values)
            if index != row:
                return None
            if opt.lerp_weight is not None:
                # lerp's formula is a function of the weight's value: asked again only
                # when the weight (usually a constant beta) changed
                weight = values[opt.lerp_weight]
                if not (type(weight) is float and type(weights[k]) is float
                        and weight == weights[k]):
                    if lerp_formula(weight, compute) != formula:
                        return None
                    weights[k] = weight
            hosts.append(new_host)
        # (the same rows, widths and 0-dim dtypes: the same outputs, in the same order)
        if len(rows) != self.row_count:
            return None
        return tensors, _table(rows), hosts

    def run(self, opt, params, grads, device, tensors, table, hosts):
        """The repeated step: the update and its write-back (as the general path in
        `_step_params` does them, on the lists made in `remember`)."""
        # `tensors` keeps each state array's tensor alive until the update is called:
        # the one holder that `make_private` allows
        state_arrays = make_private(_arrays(tensors))
        with ahead.tracing:         # (a compile ahead may be tracing the same update)
            new_states, new_params, new_scalars = _run_group(
                _arrays(params), _arrays(grads), state_arrays, table,
                update=type(opt).update, plans=self.plans, scalar_out=self.scalar_out)
        _write_all(params, new_params)
        entries = self.entries
        if type(entries) is not tuple and not all(map(
                _is, [state.get(n) for _, state, n in entries], tensors)):
            # (`state_tensor` gave a stand-in: the general path's write-back makes the entry)
            for (_, state, name), array in zip(entries, new_states):
                held = state.get(name)
                if isinstance(held, Tensor):
                    held._write_now(array)
                else:
                    state[name] = Tensor._wrap(array, device)
        else:
            _write_all(tensors, new_states)
        if not self.scalar_device:
            for state, name, (k, _, output) in zip(self.slot_states, self.slot_names,
                                                   self.scalar_writes):
                opt._write_scalar(state[name], new_scalars[output], hosts[k][name], device,
                                  Tensor._write_now)
        else:
            # _write_scalar's write and host mirror, for tensors on the update's device
            mirror = opt._host()
            _write_all(self.tensors, [new_scalars[output] for _, _, output in self.scalar_writes])
            for t, st, (k, name, _) in zip(self.tensors, self.storages, self.scalar_writes):
                mirror[id(t)] = (t, st, st.generation, hosts[k][name])
        # its 0-dim values are the next step's
        self.hosts = hosts
        self.generations = list(map(_generation_of, self.storages))


_is = operator.is_
_getitem = operator.getitem
_dtype_of = operator.attrgetter("_dtype")
_storage_of = operator.attrgetter("_storage")
_generation_of = operator.attrgetter("generation")
_whole_of = operator.attrgetter("_whole")
_array_of = operator.attrgetter("_storage.array")
_TENSOR_TYPE = itertools.repeat(Tensor)
_NONE = itertools.repeat(None)
_grad_fn_of = operator.attrgetter("_grad_fn")
_grad_of = operator.attrgetter("_grad")
_is_sparse_of = operator.attrgetter("is_sparse")


def _arrays(tensors):
    """[t._data() for t in tensors], read from the storages directly where all are
    whole tensors and none is pending (the usual case: no Python call per tensor)."""
    if all(map(_whole_of, tensors)):
        arrays = list(map(_array_of, tensors))
        if Deferred not in map(type, arrays):
            return arrays
    return [t._data() for t in tensors]


def _write_all(tensors, arrays):
    """Tensor._write_now for each pair, its case of a whole tensor inlined (the usual
    one: one Python call less per tensor, and a step writes three or four per
    parameter)."""
    for t, a in zip(tensors, arrays):
        if t._whole:
            st = t._storage
            st.array = a
            st.generation += 1
            t._version_counter.value += 1
        else:
            t._write_now(a)


def _append_new_values(row, new_host, state, traced):
    """Append to `row` the new 0-dim state values `new_host` names, each rounded as its
    tensor stores it (and so in `new_host` too: the host goes on from the stored value);
    returns their (column, dtype) pairs."""
    columns = []
    for name, number in new_host.items():
        np_type = state[name].dtype.np.type
        number = _rounded_traced(number, np_type) if traced else float(np_type(number))
        new_host[name] = number
        columns.append((len(row), state[name].dtype.np))
        row.append(number)
    return columns


def _grads(params):
    """[p.grad for p in params], read without the property's Python call where it would
    only return `_grad`: leaves (no grad_fn, so no warning) of classes that keep
    Tensor's property (as Optimizer.zero_grad does)."""
    if all(map(_is, map(_grad_fn_of, params), _NONE)) \
            and all([cls.grad is _TENSOR_GRAD for cls in set(map(type, params))]):
        return list(map(_grad_of, params))
    return [p.grad for p in params]


def _by_device(params):
    """(device, parameters with a gradient on it, their gradients) triples, in order of
    first appearance. Usually all parameters share one device object: compared by
    identity first."""
    grads = _grads(params)
    if any([g is None for g in grads]):
        with_grad = [(p, g) for p, g in zip(params, grads) if g is not None]
        if not with_grad:
            return ()
        params, grads = [p for p, _ in with_grad], [g for _, g in with_grad]
    elif not params:
        return ()
    else:
        params = list(params)   # (not the group's list, which the user may change)
    first = params[0]._storage.device
    if all([p._storage.device is first for p in params]):
        return ((first, params, grads),)
    by_device = {}
    for p, g in zip(params, grads):
        found = by_device.setdefault(p.device, ([], []))
        found[0].append(p)
        found[1].append(g)
    return [(device, ps, gs) for device, (ps, gs) in by_device.items()]


def _aval(t):
    return jax.ShapeDtypeStruct(tuple(t.shape), t.dtype.np)


def _read_fresh(value):
    """A 0-dim state value read for a prediction (not mirrored: the tensor is a guess)."""
    return float(value.item()) if isinstance(value, Tensor) else float(value)


class _Rows:
    """The group's table of scalar rows, each distinct row once. Rows are compared by
    their bits (0.0 and -0.0 differ); rows holding traced values (inside
    torchlike.compile) are never shared by value, and a block (`add_block`) is several
    consecutive rows whose entries are numbers or traced vectors, one element per row.
    New 0-dim state values are read from the table once per row."""

    def __init__(self):
        self.rows, self.index, self.outputs, self.output_index = [], {}, [], {}
        self.blocks = []        # (row values, number of rows), in table order
        self.formulas = {}

    def lerp_formula(self, row, column, dtype):
        """`lerp_formula` of the row's entry `column` (None: no lerp) for a parameter of
        torchlike dtype `dtype`, once per row and dtype."""
        if column is None:
            return None
        key = (row, dtype)
        if key not in self.formulas:
            self.formulas[key] = lerp_formula(self.rows[row][column],
                                              _compute_dtype(np.dtype(dtype.to_real().np)))
        return self.formulas[key]

    def add(self, row, traced):
        # (a row of plain numbers inside a trace, such as SGD's, is shared as in eager)
        key = None if traced and any(isinstance(v, jax.Array) for v in row) else \
            struct.pack(f"{len(row)}d", *row)
        found = self.index.get(key)
        if found is None:
            found = self.add_block(row, 1)
            if key is not None:
                self.index[key] = found
        return found

    def add_block(self, row, count):
        """`count` rows at once (their first index): `row`'s vectors hold one element
        per row, its numbers are the same in all."""
        start = len(self.rows)
        self.rows += [row] * count
        self.blocks.append((row, count))
        return start

    def output(self, row, column, dtype):
        key = (row, column, dtype)
        found = self.output_index.get(key)
        if found is None:
            found = self.output_index[key] = len(self.outputs)
            self.outputs.append(key)
        return found

    def table(self, traced):
        """The rows padded to one width; the last column stays -0.0 (see `rounded`)."""
        if not traced:
            return _table(self.rows)
        width = max(len(r) for r in self.rows) + 1
        return jnp.concatenate([jnp.stack([
            jnp.broadcast_to(jnp.asarray(v, np.float64), (count,)) for v in row] + [
            jnp.full((count,), -0.0, np.float64)] * (width - len(row)), axis=1)
            for row, count in self.blocks])


def _table(rows):
    """Rows of numbers (lists) as the float64 table the update reads: padded with -0.0
    to one width, which leaves the last column -0.0 (see `rounded`)."""
    width = max(map(len, rows)) + 1
    return np.array([r + [-0.0] * (width - len(r)) for r in rows], np.float64)


def _traced_vector(values):
    """0-dim state entries of one type and dtype, traced, as one float64 vector (as
    `_traced_scalar` reads each); stacked in their own dtype, then converted once."""
    if isinstance(values[0], Tensor):
        return jnp.stack([_jax_bridge.value(v) for v in values]).astype(np.float64)
    return jnp.asarray(values, np.float64)


def _identity(value):
    """What makes two 0-dim state entries certainly equal inside a trace: one array."""
    return id(_jax_bridge.value(value)) if isinstance(value, Tensor) else ("number", value)


def _rounded_traced(number, np_type):
    """A new traced 0-dim state value as its tensor stores it, in float64 (as host
    arithmetic continues with it)."""
    return jnp.asarray(number).astype(np_type).astype(np.float64)


def scalar_dtype():
    """The dtype of 0-dim state such as 'step': float64 under a float64 default dtype."""
    return _dtype.float64 if _dtype.get_default_dtype() is _dtype.float64 else _dtype.float32


def zero_step(p):
    # PyTorch keeps a non-capturable step on the CPU; here it sits beside the parameter
    # so that the compiled update can write it without a transfer.
    return _make_tensor(0.0, dtype=scalar_dtype(), device=p.device)
