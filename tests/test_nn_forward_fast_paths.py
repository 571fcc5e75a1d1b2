"""The module forwards' shortcuts (issue 8): checks remembered per signature (conv, max
pool), nn.Dropout(p=0) returning its input, an LSTM's zero states checked by shape. Each
must keep PyTorch's values, grad_fn names and errors, also after a call that passed."""
import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, check
from nn_oracle import check_module


def _first_call_then(make_module, good_shape, bad_shape):
    """fn(lib): one module called on a good input (its checks then remembered), then on a
    bad one: the error must be the same as a fresh check's."""
    def fn(lib):
        lib.manual_seed(0)
        module = make_module(lib.nn)
        module(lib.randn(*good_shape))
        return module(lib.randn(*bad_shape))
    return fn


@pytest.mark.parametrize("bad_shape", [(2, 3, 8, 8),      # wrong channel count
                                       (2, 1, 2, 2),      # smaller than the kernel
                                       (2, 1, 3, 8, 8)])  # wrong rank
def test_conv2d_checks_after_a_passing_call(oracle, bad_shape):
    assert_raises_same(_first_call_then(lambda nn: nn.Conv2d(1, 4, 3), (2, 1, 8, 8),
                                        bad_shape))


@pytest.mark.parametrize("bad_shape", [(2, 1, 1, 1),      # output size too small
                                       (2, 1, 3, 8, 8)])  # wrong rank
def test_max_pool2d_checks_after_a_passing_call(oracle, bad_shape):
    assert_raises_same(_first_call_then(lambda nn: nn.MaxPool2d(2), (2, 1, 8, 8), bad_shape))


def test_conv_and_pool_values_and_grad_fns_with_list_arguments(oracle):
    # MaxPool2d keeps its list arguments (not hashable: checked every call), Conv2d makes
    # them tuples (remembered); both give torch's values and grad_fns, on repeated calls
    def make(nn):
        return nn.Sequential(nn.Conv2d(2, 3, [3, 3], stride=[1, 2], padding=[1, 0]),
                             nn.MaxPool2d([2, 2], stride=[1, 2]))
    for _ in range(2):          # the second call takes the remembered path where it can
        check_module(make, [(2, 2, 9, 9)])
    for _ in range(2):
        check_module(lambda nn: nn.Conv2d(2, 3, 4, padding="same", dilation=2), [(2, 2, 7, 7)])


def test_functional_conv_with_list_arguments_twice(oracle):
    def fn(lib):
        x = lib.arange(50.0).reshape(1, 2, 5, 5)
        w = lib.arange(36.0).reshape(2, 2, 3, 3) / 36
        calls = [lib.nn.functional.conv2d(x, w, stride=[1, 2], padding=[1, 0]) for _ in "ab"]
        return lib.stack(calls)
    check(fn)


def test_functional_conv_error_for_a_bad_padding_after_a_good_one(oracle):
    def fn(lib):
        x, w = lib.ones(1, 1, 5, 5), lib.ones(1, 1, 3, 3)
        lib.nn.functional.conv2d(x, w, padding=1)
        return lib.nn.functional.conv2d(x, w, padding=-1)
    assert_raises_same(fn)


@pytest.mark.parametrize("training", [True, False])
def test_dropout_p0_returns_its_input(oracle, training):
    for lib in (oracle, torchlike):
        x = lib.ones(3, requires_grad=True) * 2
        layer = lib.nn.Dropout(0.0).train(training)
        y = layer(x)
        # torch's F.dropout returns the very input when p == 0 (checked here on torch too)
        assert y is x
        assert y.grad_fn.name() == "MulBackward0"
        layer.p = 0.5
        layer.eval()
        assert layer(x) is x


def test_dropout_p0_keeps_forward_hooks_and_later_bad_p(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        layer = lib.nn.Dropout(0.0)
        layer.register_forward_hook(lambda m, args, out: out * 3)
        seen[lib.__name__] = layer(lib.ones(2)).tolist()
    assert seen["torch"] == seen["torchlike"]

    def bad_p(lib):
        layer = lib.nn.Dropout(0.0)
        layer(lib.ones(2))
        layer.p = 2.0
        return layer(lib.ones(2))
    assert_raises_same(bad_p)


def test_lstm_without_state_matches_torch_twice(oracle):
    ours, _ = check_module(lambda nn: nn.LSTM(3, 4, num_layers=2, batch_first=True),
                           [(2, 5, 3)])
    # each call's states are its own: h_n of two calls are distinct tensors
    x = torchlike.randn(2, 5, 3)
    (_, (h1, _)), (_, (h2, _)) = ours(x), ours(x)
    assert h1 is not h2
    np.testing.assert_allclose(h1.detach().numpy(), h2.detach().numpy())


@pytest.mark.parametrize("cls,case", [
    (cls, case) for cls in ("RNN", "LSTM", "GRU")
    for case in ("wrong_h", "wrong_c", "4d_input", "wrong_features")
    if case != "wrong_c" or cls == "LSTM"])       # only an LSTM has a cell state
def test_recurrent_errors(oracle, cls, case):
    # after a call without states (checked by shape, not built twice), the given states'
    # and the input's errors are PyTorch's, with its wording per class
    def fn(lib):
        lib.manual_seed(0)
        rnn = getattr(lib.nn, cls)(3, 4)
        rnn(lib.randn(5, 2, 3))
        good, bad = lib.zeros(1, 2, 4), lib.zeros(1, 3, 4)
        if case in ("wrong_h", "wrong_c"):
            states = (bad, good) if case == "wrong_h" else (good, bad)
            return rnn(lib.randn(5, 2, 3), states if cls == "LSTM" else states[0])
        if case == "4d_input":
            return rnn(lib.randn(5, 2, 3, 1))
        return rnn(lib.randn(5, 2, 2))
    assert_raises_same(fn)


def test_lstm_projection_state_error(oracle):
    def fn(lib):
        lstm = lib.nn.LSTM(3, 4, proj_size=2)
        return lstm(lib.randn(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4)))
    assert_raises_same(fn)


@pytest.mark.parametrize("name,p,training,shape", [
    ("dropout", 0.0, True, (2, 3)), ("dropout", 0.5, False, (2, 3)),
    ("alpha_dropout", 0.0, True, (2, 3)), ("alpha_dropout", 0.5, False, (2, 3)),
    ("feature_alpha_dropout", 0.0, True, (2, 3, 4)), ("dropout1d", 0.0, True, (2, 3, 4)),
    ("dropout2d", 0.0, True, (2, 3, 4, 5)), ("dropout3d", 0.5, False, (1, 2, 3, 4, 5))])
def test_inplace_dropout_that_drops_nothing_leaves_its_input(oracle, name, p, training, shape):
    # torch returns the very input, its version unchanged, even for a leaf needing grad
    # (batched inputs: an unbatched one is unsqueezed in place first, which a leaf refuses)
    seen = {}
    for lib in (oracle, torchlike):
        x = lib.ones(*shape, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, p, training, inplace=True)
        seen[lib.__name__] = (y is x, x._version)
    assert seen["torchlike"] == seen["torch"]


def test_inplace_dropout_bad_p_still_raises(oracle):
    assert_raises_same(lambda lib: lib.nn.functional.dropout(lib.ones(3), 2.0, False,
                                                             inplace=True))
