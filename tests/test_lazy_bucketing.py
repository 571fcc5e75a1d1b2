"""Growing lengths (torchlike/_growing.py): a pending graph met at a new length runs padded
to a bucket length where no real position can see a padded one, and is computed as it is
everywhere else. Each test compares with real torch at every length, so a padding that
leaked into real values would fail here."""
import importlib.util
import os

import numpy as np
import pytest
import torch

import torchlike
from torchlike import _growing
from torchlike._caches import compiles

from helpers import assert_raises_same, assert_same, float_tol

_EXAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "gpt_tiny.py")


def _gpt_build():
    spec = importlib.util.spec_from_file_location("gpt_tiny", _EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


def _twin_models(**sizes):
    build = _gpt_build()
    torch.manual_seed(0)
    theirs = build(torch, **sizes).eval()
    ours = build(torchlike, **sizes).eval()
    ours.load_state_dict({k: torchlike.tensor(v.numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _next_token_probs(lib, model, ids):
    with lib.no_grad():
        logits, _ = model(lib.tensor([ids]))
        return lib.softmax(logits[:, -1, :] / 0.8, dim=-1)


def _compiles_per_length(lengths, check):
    """check(length) at each length; the XLA compiles each made (torch compiles none)."""
    compiled_at = {}
    for length in lengths:
        before = compiles.total
        check(length)
        compiled_at[length] = compiles.total - before
    return compiled_at


# a layer's worth of float32 sums of up to 4*32 terms, then softmax
_GPT_TOL = float_tol(torch.float32, 300, 1.0)


def test_gpt_forward_at_growing_lengths_matches_torch_and_compiles_once_per_bucket():
    ours, theirs = _twin_models(vocab_size=17, block_size=64, n_embd=32, n_head=2,
                                n_layer=1)
    tokens = [(7 * i + 3) % 17 for i in range(40)]

    def check(length):
        np.testing.assert_allclose(_next_token_probs(torchlike, ours, tokens[:length]).numpy(),
                                   _next_token_probs(torch, theirs, tokens[:length]).numpy(),
                                   **_GPT_TOL)
    compiled_at = _compiles_per_length(range(1, 41), check)
    # length 1's graph has no copy for `.contiguous()` (a (1, 1, ...) transpose is
    # contiguous), so length 2 meets another graph, and length 3 (that graph grown by
    # one) compiles the bucket of lengths up to BUCKET_MIN = 64, which serves the rest
    assert _growing.BUCKET_MIN == 64
    assert compiled_at[3] > 0, compiled_at
    assert sum(compiled_at[n] for n in range(4, 41)) == 0, compiled_at


def test_outputs_of_the_padded_length_are_cut_back_to_it():
    # the caller keeps the full logits while reading the last row: the padded program's
    # output (1, 64, vocab) is cut to (1, length, vocab)
    ours, theirs = _twin_models(vocab_size=13, block_size=32, n_embd=16, n_head=2,
                                n_layer=1)
    tokens = [(5 * i + 2) % 13 for i in range(20)]

    def check(length):
        got, want = [], []
        for lib, model, out in ((torchlike, ours, got), (torch, theirs, want)):
            with lib.no_grad():
                logits, _ = model(lib.tensor([tokens[:length]]))
                out += [logits, lib.softmax(logits[:, -1, :], dim=-1)]
        for o, t in zip(got, want):
            assert tuple(o.shape) == tuple(t.shape)
            np.testing.assert_allclose(o.numpy(), t.numpy(), **_GPT_TOL)
    compiled_at = _compiles_per_length(range(1, 21), check)
    # the logits' program compiles as it is at lengths 1 and 2, and at 3 (grown by one)
    # its bucket up to 64; the softmax's, which reads them, as it is at 1..3 and its
    # bucket at 4; then nothing
    assert sum(compiled_at[n] for n in range(5, 21)) == 0, compiled_at


def _mixing_programs(lib, length):
    """Pending graphs that mix positions along the growing axis, each with a result a
    zero padding would change (a mean, a softmax, a maximum of negative values,
    attention whose padded keys would get weight)."""
    gen = np.random.default_rng(length)
    x = lib.tensor(gen.standard_normal((2, length, 8)).astype(np.float32))
    q = lib.tensor(gen.standard_normal((1, 2, length, 4)).astype(np.float32))
    with lib.no_grad():
        y = x * 2 + 1
        # (`* 1` after an indexing view: a view read directly materializes its base,
        # whose padded axis would refuse the padding before any rule is asked)
        return [y.mean(1), lib.softmax(y, dim=1)[:, 0] * 1, (-(y * y) - 1).amax(1),
                lib.nn.functional.scaled_dot_product_attention(q * 1, q * 1, q * 1)[:, :, 0] * 1,
                y.sum(1)]


@pytest.mark.parametrize("index", range(5), ids=["mean", "softmax", "amax", "attention",
                                                 "sum"])
def test_graphs_mixing_the_growing_axis_are_not_padded(index):
    for length in range(2, 7):
        ours = _mixing_programs(torchlike, length)[index]
        theirs = _mixing_programs(torch, length)[index]
        assert_same(ours, theirs, check_grad_fn=False)


def _attention_of_reciprocals(lib, length):
    # positions padded with zeros become 1/0 = inf in the values; a real row must still
    # see none of them (a zero weight times inf is nan)
    gen = np.random.default_rng(length)
    x = lib.tensor((np.abs(gen.standard_normal((1, 1, length, 4))) + 1).astype(np.float32))
    with lib.no_grad():
        v = 1 / x
        out = lib.nn.functional.scaled_dot_product_attention(x * 1, x * 1, v, is_causal=True)
        return out.sum(-1)[:, :, 0] + out[:, :, -1].sum(-1)


def test_causal_attention_ignores_what_padding_computes():
    for length in range(2, 9):
        assert_same(_attention_of_reciprocals(torchlike, length),
                    _attention_of_reciprocals(torch, length), check_grad_fn=False)


def _split_view_select(lib, length):
    x = lib.arange(length * 6, dtype=lib.float32).reshape(1, length, 6)
    with lib.no_grad():
        head, tail = (x + 1).split([1, length - 1], dim=1)
        flat = (x * 2).view(-1, 3)
        return [head, tail, flat, (x - 1).view(1, length, 2, 3)[:, -1]]


def test_shapes_at_new_lengths_equal_torch():
    # split's bounds and a view's -1 are arithmetic in the length: the shapes must come
    # from tracing, not from substituting the length into the last call's shapes
    for length in range(2, 8):
        for ours, theirs in zip(_split_view_select(torchlike, length),
                                _split_view_select(torch, length)):
            assert_same(ours, theirs, check_grad_fn=False)


def test_broadcast_error_at_a_new_length_still_raises():
    # (length, 4) + (5, 4) is valid at 5 only: the shapes at 6 must not be derived from
    # the call at 5 (5 equals an unchanged dimension there)
    def add(length):
        def run(lib):
            with lib.no_grad():
                return (lib.ones(length, 4) * 2) + lib.ones(5, 4) * 3
        return run
    for length in (1, 5):
        assert_same(add(length)(torchlike), add(length)(torch), check_grad_fn=False)
    assert_raises_same(add(6))


def _append_tokens(lib, start, steps):
    idx = lib.zeros((1, start), dtype=lib.long)
    last = []
    for i in range(steps):
        nxt = lib.full((1, 1), (5 * i + 1) % 11, dtype=lib.long)
        idx = lib.cat((idx, nxt), dim=1)
        last.append(int(idx[0, -1]) + int(idx[0, i // 2]))
    return idx, lib.stack([idx[0], idx[0] * 2], dim=1).to(lib.float32), lib.tensor(last)


def test_appending_a_token_joins_on_the_host_without_compiling():
    # the join is a copy on the host, and idx[0, -1] of the joined (concrete) tensor is
    # read from its storage: nothing compiles per length (it was a program per length)
    _append_tokens(torchlike, 1, 3)      # warm: the factories and ops seen once
    before = compiles.total
    ours = _append_tokens(torchlike, 37, 30)      # lengths 38..67, not met before
    assert compiles.total - before <= 2, compiles.total - before   # (the stack's * 2, .to)
    for o, t in zip(ours, _append_tokens(torch, 37, 30)):
        assert_same(o, t, check_grad_fn=False)



def _appended(lib, length, paddable):
    """Pending graphs joining a growing sequence with new elements: alone, after an op on
    the padded sequence, and on a float cast (paddable); with the padded input second,
    and with the join read by a further op (not paddable)."""
    idx = lib.tensor([[k % 7 for k in range(length)]])      # (concrete: no program)
    nxt = lib.full((1, 2), length % 5, dtype=lib.long)
    if paddable:
        return [lib.cat((idx, nxt), dim=1), lib.cat((idx * 3 + 1, nxt), dim=-1),
                lib.cat((idx.float(), nxt), dim=1)]
    return [lib.cat((nxt, idx), dim=1), lib.cat((idx, nxt), dim=1) * 2]


@pytest.mark.parametrize("paddable", [True, False])
def test_appending_without_numpy_compiles_once_per_bucket(monkeypatch, paddable):
    # on an accelerator numpy does not make the join (_host_ops), so each length of a
    # generated sequence compiled a `cat` of its own (64 of a GPT's 73 compiles on a
    # GPU): the join is now padded to the bucket, the new elements written at the length
    from torchlike import _host_ops
    monkeypatch.setattr(_host_ops, "_numpy_may_read", lambda tensors: False)

    def check(length):
        for got, want in zip(_appended(torchlike, length, paddable),
                             _appended(torch, length, paddable)):
            assert_same(got, want, check_grad_fn=False)
    compiled_at = _compiles_per_length(range(1, 41), check)
    later = sum(compiled_at[n] for n in range(5, 41))
    if paddable:
        # lengths 1 and 2 compile the graphs as they are, 3 (grown by one) their padded
        # programs for the bucket up to 64, which serve every later length
        assert later == 0, compiled_at
    else:
        assert later == 2 * 36, compiled_at       # a program per graph and length, as before
