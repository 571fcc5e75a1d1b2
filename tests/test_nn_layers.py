"""Every layer against torch: identical weights, same inputs; forward values, grad_fn
names, input and parameter gradients (see nn_oracle.check_module), and repr."""
import numpy as np
import pytest

from helpers import float_tol
from nn_oracle import check_module

I64 = np.int64

# id -> (constructor over an nn namespace, input spec)
LAYERS = {
    "Identity": (lambda nn: nn.Identity(), [(2, 3)]),
    "Linear": (lambda nn: nn.Linear(4, 3), [(2, 4)]),
    "Linear-3d": (lambda nn: nn.Linear(4, 3), [(2, 5, 4)]),
    "Linear-1d": (lambda nn: nn.Linear(4, 3), [(4,)]),
    "Linear-nobias": (lambda nn: nn.Linear(4, 3, bias=False), [(2, 4)]),
    "Linear-nobias-3d": (lambda nn: nn.Linear(4, 3, bias=False), [(2, 5, 4)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "Flatten": (lambda nn: nn.Flatten(), [(2, 3, 4)]),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), [(2, 6)]),
    "Conv1d": (lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), [(2, 3, 9)]),
    "Conv1d-unbatched": (lambda nn: nn.Conv1d(3, 4, 3), [(3, 9)]),
    "Conv2d": (lambda nn: nn.Conv2d(3, 4, 3, padding=1), [(2, 3, 6, 6)]),
    "Conv2d-same-dilated": (lambda nn: nn.Conv2d(2, 4, (3, 2), padding="same", dilation=2),
                            [(2, 2, 7, 6)]),
    "Conv2d-groups-nobias": (lambda nn: nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False),
                             [(2, 4, 7, 7)]),
    "Conv2d-reflect": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       [(1, 2, 5, 5)]),
    "Conv2d-replicate": (lambda nn: nn.Conv2d(2, 3, 3, padding=(1, 2),
                                              padding_mode="replicate"), [(1, 2, 5, 5)]),
    "Conv2d-circular": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
                        [(1, 2, 5, 5)]),
    "Conv3d": (lambda nn: nn.Conv3d(2, 3, 2, stride=(1, 2, 1)), [(1, 2, 4, 5, 3)]),
    "ConvTranspose1d": (lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1,
                                                      output_padding=1), [(2, 3, 5)]),
    "ConvTranspose2d": (lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2,
                                                      dilation=2), [(2, 4, 4, 4)]),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(3, stride=2, padding=1), [(2, 3, 9)]),
    "MaxPool2d": (lambda nn: nn.MaxPool2d(2), [(2, 3, 6, 6)]),
    "MaxPool2d-ceil": (lambda nn: nn.MaxPool2d(3, 2, padding=1, ceil_mode=True),
                       [(2, 3, 8, 7)]),
    "MaxPool2d-dilated": (lambda nn: nn.MaxPool2d(2, 1, dilation=2), [(1, 2, 6, 6)]),
    "MaxPool2d-indices": (lambda nn: nn.MaxPool2d(2, return_indices=True), [(2, 3, 6, 6)]),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(3, 2, padding=1), [(2, 3, 8)]),
    "AvgPool2d": (lambda nn: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True,
                                          count_include_pad=False), [(2, 3, 8, 7)]),
    "AvgPool2d-divisor": (lambda nn: nn.AvgPool2d(2, divisor_override=3), [(2, 3, 6, 6)]),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(3), [(2, 3, 8)]),
    "AdaptiveAvgPool2d": (lambda nn: nn.AdaptiveAvgPool2d((3, 2)), [(2, 3, 7, 5)]),
    "AdaptiveAvgPool2d-1": (lambda nn: nn.AdaptiveAvgPool2d(1), [(2, 3, 7, 5)]),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d((3, 4), return_indices=True),
                          [(2, 3, 7, 9)]),
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(4), [(5, 4)]),
    "BatchNorm1d-3d": (lambda nn: nn.BatchNorm1d(4), [(5, 4, 3)]),
    "BatchNorm2d": (lambda nn: nn.BatchNorm2d(3), [(4, 3, 5, 5)]),
    "BatchNorm2d-noaffine": (lambda nn: nn.BatchNorm2d(3, affine=False), [(4, 3, 5, 5)]),
    "BatchNorm2d-nostats": (lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
                            [(4, 3, 5, 5)]),
    "LayerNorm": (lambda nn: nn.LayerNorm(5), [(2, 3, 5)]),
    "LayerNorm-2d-nobias": (lambda nn: nn.LayerNorm((3, 5), bias=False), [(2, 3, 5)]),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), [(3, 4, 5, 5)]),
    "InstanceNorm2d": (lambda nn: nn.InstanceNorm2d(3), [(2, 3, 5, 5)]),
    "InstanceNorm2d-affine": (lambda nn: nn.InstanceNorm2d(3, affine=True), [(2, 3, 5, 5)]),
    "RMSNorm": (lambda nn: nn.RMSNorm(5), [(2, 3, 5)]),
    "RMSNorm-eps": (lambda nn: nn.RMSNorm([3, 5], eps=1e-3), [(2, 3, 5)]),
    "Embedding": (lambda nn: nn.Embedding(10, 4), [np.array([[1, 2, 9], [4, 2, 0]])]),
    "Embedding-padding": (lambda nn: nn.Embedding(10, 4, padding_idx=2),
                          [np.array([[1, 2, 9], [4, 2, 0]])]),
    "EmbeddingBag-mean": (lambda nn: nn.EmbeddingBag(10, 3),
                          [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4])]),
    "EmbeddingBag-sum": (lambda nn: nn.EmbeddingBag(10, 3, mode="sum"),
                         [np.array([[1, 2, 4], [5, 4, 3]])]),
    "EmbeddingBag-max": (lambda nn: nn.EmbeddingBag(10, 3, mode="max"),
                         [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 5])]),
    "EmbeddingBag-padding": (lambda nn: nn.EmbeddingBag(10, 3, padding_idx=2),
                             [np.array([1, 2, 4, 2, 2, 3]), np.array([0, 2, 4])]),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), [(2, 3, 4, 4)]),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d(2, 3.5), [(2, 3, 4)]),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d(1), [(2, 3, 4, 4)]),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((1, 2)), [(2, 3, 4)]),
    "CircularPad2d": (lambda nn: nn.CircularPad2d(1), [(1, 2, 3, 3)]),
    "Upsample-nearest": (lambda nn: nn.Upsample(scale_factor=2), [(1, 2, 3, 4)]),
    "Upsample-bilinear": (lambda nn: nn.Upsample(size=(5, 7), mode="bilinear"), [(1, 2, 3, 4)]),
    "Upsample-bicubic-aligned": (lambda nn: nn.Upsample(scale_factor=1.5, mode="bicubic",
                                                        align_corners=True), [(1, 2, 3, 4)]),
    "Upsample-linear": (lambda nn: nn.Upsample(scale_factor=2.5, mode="linear"), [(2, 3, 4)]),
    "Upsample-trilinear": (lambda nn: nn.Upsample(size=(3, 4, 2), mode="trilinear"),
                           [(1, 2, 2, 3, 3)]),
    "Upsample-nearest-exact": (lambda nn: nn.Upsample(size=(5, 3), mode="nearest-exact"),
                               [(1, 2, 3, 4)]),
    "UpsamplingNearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=3), [(1, 2, 2, 3)]),
    "UpsamplingBilinear2d": (lambda nn: nn.UpsamplingBilinear2d(size=(4, 5)), [(1, 2, 2, 3)]),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), [(2, 8, 3, 4)]),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), [(2, 2, 4, 6)]),
    "PReLU": (lambda nn: nn.PReLU(), [(2, 3, 4)]),
    "PReLU-channels": (lambda nn: nn.PReLU(3), [(2, 3, 4)]),
}

ACTIVATIONS = {
    "ReLU": lambda nn: nn.ReLU(), "ReLU6": lambda nn: nn.ReLU6(),
    "GELU": lambda nn: nn.GELU(), "GELU-tanh": lambda nn: nn.GELU("tanh"),
    "SiLU": lambda nn: nn.SiLU(), "Tanh": lambda nn: nn.Tanh(),
    "Sigmoid": lambda nn: nn.Sigmoid(), "Softmax": lambda nn: nn.Softmax(dim=1),
    "Softmin": lambda nn: nn.Softmin(dim=0), "LogSoftmax": lambda nn: nn.LogSoftmax(dim=-1),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2), "ELU": lambda nn: nn.ELU(0.7),
    "CELU": lambda nn: nn.CELU(1.3), "SELU": lambda nn: nn.SELU(),
    "Softplus": lambda nn: nn.Softplus(beta=2.0, threshold=3.0),
    "Hardtanh": lambda nn: nn.Hardtanh(-0.5, 0.8), "Mish": lambda nn: nn.Mish(),
    "Hardswish": lambda nn: nn.Hardswish(), "Hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "Softsign": lambda nn: nn.Softsign(), "Tanhshrink": lambda nn: nn.Tanhshrink(),
    "Threshold": lambda nn: nn.Threshold(0.1, 20.0), "LogSigmoid": lambda nn: nn.LogSigmoid(),
    "Hardshrink": lambda nn: nn.Hardshrink(0.3), "Softshrink": lambda nn: nn.Softshrink(0.3),
    "GLU": lambda nn: nn.GLU(1), "Softmax2d": lambda nn: nn.Softmax2d(),
}

# values at the kinks (0, +-1, +-3, 6, thresholds) are where gradients most often differ
KINKS = np.array([[-3.0, -1.0, -0.5, 0.0, 0.1, 0.3],
                  [0.5, 0.8, 1.0, 3.0, 6.0, 7.0],
                  [-0.3, 2.0, -2.5, 4.0, -6.0, 0.2],
                  [1.5, -1.5, 0.25, -0.25, 3.5, -3.5]], np.float32)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(oracle, name):
    make, spec = LAYERS[name]
    check_module(make, spec)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_repr(oracle, name):
    make, _ = LAYERS[name]
    import torchlike
    assert repr(make(torchlike.nn)) == repr(make(oracle.nn))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(oracle, name):
    make = ACTIVATIONS[name]
    shape_kinks = KINKS.reshape(1, 4, 6, 1) if name == "Softmax2d" else KINKS
    check_module(make, [shape_kinks])
    check_module(make, [(3, 4, 6)] if name != "Softmax2d" else [(2, 3, 4, 5)])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_repr(oracle, name):
    import torchlike
    make = ACTIVATIONS[name]
    assert repr(make(torchlike.nn)) == repr(make(oracle.nn))


@pytest.mark.parametrize("make", [
    lambda nn: nn.ReLU(inplace=True), lambda nn: nn.ELU(inplace=True),
    lambda nn: nn.LeakyReLU(inplace=True), lambda nn: nn.Hardtanh(inplace=True),
    lambda nn: nn.ReLU6(inplace=True), lambda nn: nn.Threshold(0.1, 2.0, inplace=True),
    lambda nn: nn.SiLU(inplace=True), lambda nn: nn.Dropout(0.3, inplace=True),
])
def test_inplace_activation_repr_and_values(oracle, make):
    import torchlike
    assert repr(make(torchlike.nn)) == repr(make(oracle.nn))
    ours, theirs = make(torchlike.nn).eval(), make(oracle.nn).eval()
    x = KINKS * 2
    a, b = torchlike.tensor(x) * 1.0, oracle.tensor(x) * 1.0
    # at most a libm function (exp/expm1: 4 roundings) and 3 more ops (SiLU's
    # x / (1 + exp(-x)), ELU's alpha * expm1(x)): 8 roundings
    tol = float_tol("float32", 8)
    np.testing.assert_allclose(np.asarray(ours(a)), theirs(b).numpy(), **tol)
    np.testing.assert_allclose(np.asarray(a), b.numpy(), **tol)   # written in place


def test_conv_transpose_output_size(oracle):
    check_module(lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2),
                 [(1, 3, 4, 4)], forward=lambda m, x: m(x, output_size=[10, 9]))
