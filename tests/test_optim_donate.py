"""The group update donates the old optimizer-state buffers (optim/_donation.py): the
new values are written in place, every value still equals torch's, whatever still
refers to an old array (a view, a detached alias, a pending value, a graph, a jax
array) reads what it reads in torch, and the first step runs the later steps' program.
Parameters are not donated (the graph of the loss just backwarded still reads them
during step(); see _elementwise._run_group)."""
import re

import jax
import numpy as np
import pytest

import torchlike
from torchlike import _caches
from torchlike.optim import _elementwise

from helpers import float_tol, normwise_tol

# 12 elements: zeros_like's shared cache of constants (the first step's state) serves
# it; 65 x 64 = 4160 elements: past the cache's limit, a fresh zeros array
SHAPES = [(3, 4), (65, 64)]
OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
              ("AdamW", dict(lr=0.01, weight_decay=0.1))]


def _values(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _buffer(t):
    return t._data().unsafe_buffer_pointer()


def _state_buffers(opt, params):
    return [_buffer(v) for p in params for v in opt.state[p].values() if v.ndim > 0]


def _train(lib, name, kwargs, in_place=False):
    """Three steps; returns every parameter and state value. `in_place`: check after
    steps 2 and 3 that the update wrote into the old buffers and compiled nothing."""
    params = [lib.nn.Parameter(lib.tensor(_values(s, i))) for i, s in enumerate(SHAPES)]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for step in range(3):
        for i, p in enumerate(params):
            p.grad = lib.tensor(_values(p.shape, 10 * step + i))
        buffers = _state_buffers(opt, params) if in_place and step > 0 else None
        compiles = _caches.compiles.total
        opt.step()
        if in_place and step > 0:
            # the old state's buffers (donated) hold new values: XLA gives each to an
            # output of its shape, a new parameter or a new state; and the first step
            # (its zero state a shared constant, copied) compiled the one program the
            # later steps run
            reused = set(_state_buffers(opt, params)) | {_buffer(p) for p in params}
            assert set(buffers) <= reused
            assert _caches.compiles.total == compiles
    return ([p.detach().numpy().copy() for p in params],
            [v.numpy().copy() for p in params for v in opt.state[p].values()])


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_updates_in_place_equal_torch_and_compile_once(oracle, monkeypatch, name, kwargs):
    ours = _train(torchlike, name, kwargs, in_place=True)
    theirs = _train(oracle, name, kwargs)
    # the shared zeros the first step's state came from are intact
    assert not torchlike.zeros(SHAPES[0]).numpy().any()
    # the same steps through the update program that donates nothing (torchlike.compile's)
    monkeypatch.setattr(_elementwise, "_run_group", _elementwise._run_group_traced)
    kept = _train(torchlike, name, kwargs)
    for a, b in zip(ours[0] + ours[1], kept[0] + kept[1]):
        assert a.tobytes() == b.tobytes()
    for a, b in zip(ours[1], theirs[1]):
        assert a.tobytes() == b.tobytes()
    if name == "SGD":
        for a, b in zip(ours[0], theirs[0]):
            assert a.tobytes() == b.tobytes()
    else:
        # Adam's parameters differ from torch's by one rounding of the update in a few
        # elements from the second step on, with or without donation (the update rule,
        # not this file's subject; its state above is exact): at most one rounding of
        # the old parameter's size per step, after which p - update may cancel
        for a, b in zip(ours[0], theirs[0]):
            np.testing.assert_allclose(a, b, **normwise_tol("float32", 3, b))


def _holders_scenario(lib):
    """A step while the old parameter array is held in every way the library allows;
    returns what each holder reads afterwards."""
    p = lib.nn.Parameter(lib.tensor(_values((4, 5), 0)))
    x = lib.tensor(_values((4, 5), 1))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = lib.tensor(_values((4, 5), 2))
    opt.step()                                   # a momentum buffer exists from here on
    row = p[1]                                   # a view
    reshaped = p.view(2, 10)                     # a view seeing the whole storage
    alias = p.detach()                           # shares p's storage
    with lib.no_grad():
        doubled = p * 2                          # computed from the old value
    retained = (p * x).sum()                     # saves x (not p) for backward
    retained.backward(retain_graph=True)
    pending = (p * x).sum()                      # a graph not yet backwarded
    as_jax = p.jax() if lib is torchlike else p.detach().clone()    # torch: no such thing
    p.grad = lib.tensor(_values((4, 5), 3))
    opt.step()
    retained.backward()                          # the retained graph, backwarded again
    pending.backward()
    return dict(p=p.detach(), row=row, reshaped=reshaped, alias=alias, doubled=doubled,
                retained=retained, pending=pending, grad=p.grad, as_jax=as_jax,
                buf=opt.state[p]["momentum_buffer"])


def test_a_step_while_the_old_arrays_are_held_reads_as_torch(oracle):
    """A view or a detached alias of the parameter shares its storage: it reads the new
    value, as in torch. Values computed before the step (a pending one, a graph's) keep
    the old value, and so does a jax array taken before: donation must not delete it."""
    ours, theirs = _holders_scenario(torchlike), _holders_scenario(oracle)
    for key, expected in theirs.items():
        got = ours[key]
        got = np.asarray(got) if isinstance(got, jax.Array) else got.detach().numpy()
        expected = expected.detach().numpy()
        if key in ("retained", "pending"):   # sums: XLA adds in another order than torch
            # a sum of 20 products of standard-normal draws: 21 roundings, of terms
            # whose magnitudes add up to about 13 (20 times E|p x| = 2/pi), bounded by 20
            np.testing.assert_allclose(got, expected, err_msg=key,
                                       **float_tol("float32", steps=21, scale=20.0))
        else:
            assert got.tobytes() == expected.tobytes(), key


def test_numpy_of_a_parameter_sees_the_step(oracle):
    """`numpy()` shares memory with the parameter in torch, so the step writes into it."""
    arrays = []
    for lib in (oracle, torchlike):
        p = lib.nn.Parameter(lib.tensor(_values((6,), 0)))
        opt = lib.optim.AdamW([p], lr=0.1)
        shared = p.detach().numpy()
        p.grad = lib.tensor(_values((6,), 1))
        opt.step()
        arrays.append(shared.copy())
    assert arrays[1].tobytes() == arrays[0].tobytes()


def _watch_group_updates(monkeypatch):
    """(calls, the real group update): each later group update appends its arguments'
    shapes and dtypes and its keyword arguments to `calls`, to lower it again."""
    calls = []
    run_group = _elementwise._run_group

    def spy(*args, **kwargs):
        calls.append((jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                             args), kwargs))
        return run_group(*args, **kwargs)
    monkeypatch.setattr(_elementwise, "_run_group", spy)
    return calls, run_group


def test_the_compiled_update_aliases_its_inputs_to_its_outputs(monkeypatch):
    """XLA's own account: every state buffer is an input-output alias of the compiled
    update, so the step needs no second copy of them."""
    calls, run_group = _watch_group_updates(monkeypatch)
    params = [torchlike.nn.Parameter(torchlike.tensor(_values(s, 0))) for s in SHAPES]
    opt = torchlike.optim.AdamW(params, lr=0.01)
    for p in params:
        p.grad = torchlike.ones_like(p)
    opt.step()
    (args, kwargs), = calls
    compiled = run_group.lower(*args, **kwargs).compile()
    assert "input_output_alias" in compiled.as_text()
    # exp_avg and exp_avg_sq: two float32 buffers per parameter
    updated_bytes = 2 * 4 * sum(int(np.prod(s)) for s in SHAPES)
    assert compiled.memory_analysis().alias_size_in_bytes == updated_bytes


def test_each_state_buffer_takes_its_own_new_value(monkeypatch):
    """JAX hands a donated buffer to the first output of its shape and dtype. The update
    returns the new states first, so each old state buffer receives that state's new
    value; were the parameters first, the state buffers would take the new parameters
    and XLA would copy every old state before the update (86 copies in the benchmark's
    transformer step)."""
    calls, run_group = _watch_group_updates(monkeypatch)
    shapes = [(4, 3), (4, 3), (5,)]        # repeated shapes: where a wrong match can happen
    params = [torchlike.nn.Parameter(torchlike.tensor(_values(s, i)))
              for i, s in enumerate(shapes)]
    opt = torchlike.optim.Adam(params, lr=0.01)
    for p in params:
        p.grad = torchlike.ones_like(p)
    opt.step()
    opt.step()
    (args, kwargs) = calls[-1]
    text = run_group.lower(*args, **kwargs).compile().as_text()
    aliases = dict((int(out), int(arg)) for out, arg in
                   re.findall(r"\{(\d+)\}: \((\d+), \{\}", text.split("\n", 1)[0]))
    states_start = 2 * len(params)                # arguments: params, grads, states, table
    assert aliases == {k: states_start + k for k in range(2 * len(params))}
    entry = text[text.index("ENTRY"):]
    assert " copy(" not in entry
