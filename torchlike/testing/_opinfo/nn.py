"""Oracle samples for torch.nn.functional math and its torch.* spellings (see core.py)."""
from .core import D, E, L, OpInfo, S, T

_KINKS = L([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])   # the bounds of relu6/hard*/shrinks

# name, extra samples (besides a matrix, a float64 0-d tensor, an empty one, the kinks)
_ACTIVATIONS = [
    ("relu", []), ("relu6", []), ("leaky_relu", [S(T(2, 3), 0.2)]), ("elu", [S(T(2, 3), 0.5)]),
    ("selu", []), ("celu", [S(T(2, 3), 2.0)]), ("gelu", [S(T(2, 3), approximate="tanh")]),
    ("silu", []), ("mish", []), ("softplus", [S(T(2, 3), 2.0, 1.0)]), ("softsign", []),
    ("hardtanh", [S(T(2, 3), -0.5, 0.5)]), ("hardsigmoid", []), ("hardswish", []),
    ("sigmoid", []), ("tanh", []), ("logsigmoid", []), ("tanhshrink", []),
    ("softshrink", [S(T(2, 3), 1.0)]), ("hardshrink", [S(T(2, 3), 1.0)]),
    ("threshold", None), ("rrelu", []),
]
for _name, _extra in _ACTIVATIONS:
    if _extra is None:
        _samples = [S(T(2, 3), 0.5, -1.0), S(T(dtype="f64"), 0.1, 0.0), S(_KINKS, 0.5, 2.0)]
    else:
        _samples = [S(T(2, 3, low=-4, high=4)), S(T(dtype="f64")), S(T(0, 2)), S(_KINKS)] + _extra
    OpInfo("nn.functional." + _name, _samples)
for _name in ("relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh",
              "hardsigmoid", "hardswish", "rrelu"):
    OpInfo("nn.functional." + _name + " (inplace)", [S(T(2, 3)), S(_KINKS)],
           op=lambda lib, x, _n=_name: getattr(lib.nn.functional, _n)(x.clone(), inplace=True),
           covers=())
OpInfo("nn.functional.threshold (inplace)", [S(T(2, 3), 0.5, -1.0)],
       op=lambda lib, x, t, v: lib.nn.functional.threshold(x.clone(), t, v, inplace=True))
for _name in ("selu", "celu", "threshold", "rrelu", "hardshrink"):
    OpInfo(_name, [S(T(2, 3)) if _name != "threshold" else S(T(2, 3), 0.5, -1.0),
                   S(_KINKS) if _name != "threshold" else S(_KINKS, 0.5, 2.0)])
OpInfo("nn.functional.prelu", [S(T(2, 3), T(1)), S(T(2, 3, 4), T(3)), S(_KINKS, L([0.25]))],
       errors=[E(T(2, 3), T(2))])
OpInfo("prelu", [S(T(2, 3), T(3))])
OpInfo("nn.functional.glu", [S(T(2, 4)), S(T(4, 3), 0)], errors=[E(T(3))])

# softmax family
for _name in ("softmax", "log_softmax", "softmin"):
    OpInfo("nn.functional." + _name, [S(T(2, 3), 1), S(T(2, 3), 0), S(T(2, 3, dtype="f64"), -1),
                                      S(T(2, 3), 1, dtype=D("f64")), S(T(), 0),
                                      S(L([[0.0, float("-inf")], [1.0, 2.0]]), 1), S(T(0, 3), 1)])
for _name in ("softmax", "log_softmax"):
    OpInfo(_name, [S(T(2, 3), 1), S(T(2, 3), -1, dtype=D("f64"))], errors=[E(T(3, dtype="i64"), 0)])
OpInfo("nn.functional.gumbel_softmax", [S(T(2, 3)), S(T(2, 3), hard=True)], nondeterministic=True)

# normalize, linear, distances
OpInfo("nn.functional.normalize", [S(T(2, 3)), S(T(2, 3), 1.0, 0), S(L([[0.0, 0.0], [3.0, 4.0]]))])
OpInfo("nn.functional.linear", [S(T(2, 3), T(4, 3), T(4)), S(T(2, 3), T(4, 3)), S(T(3), T(4, 3), T(4)),
                                S(T(2, 2, 3), T(4, 3), T(4)), S(T(2, 2, 3), T(4, 3)), S(T(3), T(4, 3))],
       errors=[E(T(2, 3), T(4, 2))])
OpInfo("nn.functional.bilinear", [S(T(2, 3), T(2, 4), T(5, 3, 4), T(5)), S(T(2, 3), T(2, 4), T(5, 3, 4))])
OpInfo("bilinear", [S(T(2, 3), T(2, 4), T(5, 3, 4), T(5))])
for _name in ("nn.functional.cosine_similarity", "cosine_similarity"):
    OpInfo(_name, [S(T(2, 3), T(2, 3)), S(T(2, 3), T(3), 0), S(T(2, 3), T(2, 3), -1, 0.5),
                   S(L([[0.0, 0.0]]), L([[1.0, 2.0]]))])
for _name in ("nn.functional.pairwise_distance", "pairwise_distance"):
    OpInfo(_name, [S(T(2, 3), T(2, 3)), S(T(2, 3), T(3), 1.0), S(T(2, 3), T(2, 3), keepdim=True),
                   S(T(3), T(3))])
for _name in ("nn.functional.pdist", "pdist"):
    OpInfo(_name, [S(T(4, 3)), S(T(3, 2), 1.0)])

# dropout: random masks, so only dtype/shape/grad_fn are compared (statistics elsewhere)
for _name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
    OpInfo("nn.functional." + _name, [S(T(2, 3), 0.5, True), S(T(2, 3), 0.5, False),
                                      S(T(2, 3), 0.0, True), S(T(2, 3, 4), 1.0, True)],
           nondeterministic=True)
    OpInfo(_name, [S(T(2, 3), 0.5, True), S(T(2, 3), 0.3, False)], nondeterministic=True)
OpInfo("feature_dropout", [S(T(2, 3, 4), 0.5, True)], nondeterministic=True)
OpInfo("nn.functional.dropout1d", [S(T(2, 3, 4)), S(T(3, 4))], nondeterministic=True,
       errors=[E(T(3))])
OpInfo("nn.functional.dropout2d", [S(T(2, 3, 2, 2)), S(T(2, 3, 4))], nondeterministic=True)
# (PyTorch runs every input but a 5-d one as a batch of one: a SqueezeBackward1 node)
OpInfo("nn.functional.dropout3d", [S(T(2, 3, 2, 2, 2)), S(T(3, 2, 2, 2)), S(T(2, 3))],
       nondeterministic=True)
OpInfo("nn.functional.dropout (bad p)", [], errors=[E(T(3), 1.5)],
       op=lambda lib, x, p: lib.nn.functional.dropout(x, p))

# one_hot, pad, embedding
OpInfo("nn.functional.one_hot", [S(L([0, 2, 1], "i64")), S(L([[0], [3]], "i64"), 5)],
       errors=[E(L([0, 3], "i64"), 2), E(L([-1], "i64")), E(L([0.0]))])
OpInfo("nn.functional.pad", [S(T(2, 3), (1, 1)), S(T(2, 3), (1, 2, 0, 1), value=0.5),
                             S(T(2, 3), (-1, 1)), S(T(1, 2, 3), (1, 2), mode="reflect"),
                             S(T(1, 2, 3), (1, 2), mode="replicate"),
                             S(T(1, 2, 3), (1, 2), mode="circular"),
                             S(T(1, 1, 3, 3), (1, 1, 2, 0), mode="reflect"),
                             S(T(1, 1, 3, 3), (1, 1, 1, 1), mode="replicate"),
                             S(T(1, 1, 3, 3), (1, 0, 1, 2), mode="circular"),
                             S(T(3, dtype="i64"), (2, 0), value=7)],
       errors=[E(T(1, 2, 3), (3, 3), mode="reflect"), E(T(2, 3), (1,))])
OpInfo("nn.functional.embedding", [S(L([0, 2, 2], "i64"), T(4, 3)), S(L([[0, 1], [3, 3]], "i64"), T(4, 3)),
                                   S(L([0, 2, 0], "i64"), T(4, 3), padding_idx=0),
                                   S(L([1, 3], "i64"), T(4, 3), padding_idx=-1)],
       errors=[E(L([0, 1], "i64"), T(4, 3), padding_idx=5, msg=False)])
OpInfo("embedding", [S(T(4, 3), L([0, 2, 2], "i64")), S(T(4, 3), L([0, 2, 0], "i64"), 0)])

# -- invalid calls: PyTorch's exception class (and message, unless msg=False) ---------------
_F = "nn.functional."
_ERRORS = [
    (_F + "relu", E(T(3, dtype="b"))), (_F + "relu6", E(T(3, dtype="b"))),
    (_F + "hardtanh", E(T(3), 1.0, -1.0)), (_F + "hardtanh", E(T(3, dtype="b"))),
    (_F + "softsign", E(T(3, dtype="b"))), (_F + "tanhshrink", E(T(3, dtype="b"))),
    (_F + "softshrink", E(T(3), -1.0)), (_F + "softshrink", E(T(3, dtype="f64"), -1.0)),
    (_F + "gelu", E(T(3), approximate="foo")), (_F + "rrelu", E(T(3), 0.5, 0.1, True)),
    (_F + "threshold", E(T(3, dtype="b"), 0.5, 1.0)),
    (_F + "softmax", E(T(2, 3), 2)), (_F + "log_softmax", E(T(2, 3), -3)),
    (_F + "softmin", E(T(3, dtype="i64"), 0)), (_F + "normalize", E(T(2, 3), 2.0, 2)),
    (_F + "bilinear", E(T(2, 3), T(2, 4), T(5, 3, 3))), (_F + "bilinear", E(T(2, 3), T(3, 4), T(5, 3, 4))),
    (_F + "bilinear", E(T(2, 3), T(2, 4), T(5, 2, 4))),
    (_F + "cosine_similarity", E(T(2, 3), T(2, 4))), (_F + "cosine_similarity", E(T(2, 3), T(2, 3), 2)),
    (_F + "pairwise_distance", E(T(2, 3), T(2, 4))), (_F + "pdist", E(T(3))),
    (_F + "pdist", E(T(3, 2), -1.0)), (_F + "gumbel_softmax", E(T(2, 3), dim=2)),
    (_F + "dropout2d", E(T(3), 0.5)), (_F + "alpha_dropout", E(T(3), -0.5)),
    (_F + "feature_alpha_dropout", E(T(3), 2.0, True)), (_F + "glu", E(T(2, 3), 2)),
    (_F + "prelu", E(T(3, dtype="i64"), T(1, dtype="i64"))),
    (_F + "embedding", E(L([0.0]), T(4, 3))), (_F + "embedding", E(L([0], "i64"), T(4))),
    (_F + "one_hot", E(L([0, 1], "i64"), -2)),
    (_F + "pad", E(T(2, 3), (1, 1), mode="foo")), (_F + "pad", E(T(3), (1, 1), mode="reflect", msg=False)),
    (_F + "pad", E(T(1, 2, 3), (1, 1, 1, 1, 1, 1, 1, 1))),
    (_F + "pad", E(T(1, 2, 3), (4, 4), mode="circular")),
    (_F + "pad", E(T(1, 2, 3), (1, 1), mode="replicate", value=1.0)),
    (_F + "linear", E(T(2, 3), T(4, 3), T(5))), (_F + "linear", E(T(2, 3), T(4, 3), T(3, 4))),
    ("softmax", E(T(2, 3), 2)), ("log_softmax", E(T(2, 3), 2)),
    ("cosine_similarity", E(T(3), T(4))), ("pairwise_distance", E(T(2, 3), T(4, 3))),
    ("pdist", E(T(2, 3, 4))), ("bilinear", E(T(2, 3), T(2, 4), T(5, 3, 3), T(5))),
    ("bilinear", E(T(2, 3), T(2, 4), T(5, 3, 4), T(4))),
    ("embedding", E(T(4, 3), L([0.0]))), ("prelu", E(T(2, 3), T(2))),
    ("threshold", E(T(3, dtype="b"), 0.5, 1.0)), ("rrelu", E(T(3), 0.5, 0.1)),
    ("dropout", E(T(3), 1.5, True)), ("feature_dropout", E(T(3), 1.5, True)),
    ("alpha_dropout", E(T(3), 1.5, True)), ("feature_alpha_dropout", E(T(3), 1.5, True)),
]
for _name, _dtype_name in [("leaky_relu", "i64"), ("elu", "i64"), ("selu", "i64"), ("celu", "b"),
                           ("gelu", "i64"), ("silu", "i64"), ("mish", "i64"), ("softplus", "i64"),
                           ("hardsigmoid", "i64"), ("hardswish", "b"), ("logsigmoid", "i64"),
                           ("hardshrink", "i64"), ("rrelu", "i64")]:
    _ERRORS.append((_F + _name, E(T(3, dtype=_dtype_name))))
for _name in ("selu", "celu", "hardshrink"):
    _ERRORS.append((_name, E(T(3, dtype="i64"))))
for _name, _error in _ERRORS:
    OpInfo(_name, errors=[_error])

# -- edge dtypes the tables above leave out: integers, where PyTorch's kernel takes them ----
for _name in ("relu", "relu6", "hardtanh", "softsign", "tanhshrink"):
    OpInfo("nn.functional." + _name, [S(T(4, dtype="i64"))])
OpInfo("nn.functional.threshold", [S(T(4, dtype="i64"), 1, 7), S(T(0, 2), 0.5, 1.0)])
OpInfo("nn.functional.softmax", [S(T(3, dtype="i64"), 0, dtype=D("f32"))])
OpInfo("nn.functional.normalize", [S(T(0, 3)), S(T(2, 3, dtype="f64"), 1.0, -1)])
OpInfo("nn.functional.linear", [S(T(0, 3), T(4, 3), T(4)), S(T(2, 3, dtype="f64"), T(4, 3, dtype="f64")),
                                S(T(2, 3), T(3)), S(T(3), T(3)), S(T(3), T(3), T()),
                                S(T(2, 2, 3), T(3), T())],
       errors=[E(T(2, 3), T(3), T())])
OpInfo("nn.functional.one_hot", [S(L([], "i64"), 3), S(L(2, "i64"), 4)])
OpInfo("nn.functional.pad", [S(T(0, 3), (1, 1)), S(T(2, 3, dtype="f64"), (0, 0, 1, 0))])
OpInfo("nn.functional.embedding", [S(L(1, "i64"), T(4, 3, dtype="f64"))])
OpInfo("nn.functional.cosine_similarity", [S(T(2, 3, dtype="f64"), T(2, 3, dtype="f64"), -1)])
OpInfo("nn.functional.glu", [S(T(2, 4, dtype="f64"), -2)])

# -- losses and rearrangements that are plain math (the nn tests cover the layers) ------------
for _name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
    OpInfo(_F + _name, [S(T(2, 3), T(2, 3)), S(T(3, dtype="f64"), T(3, dtype="f64"), reduction="sum"),
                        S(T(2, 3), T(2, 3), reduction="none")])
OpInfo(_F + "pixel_shuffle", [S(T(1, 4, 2, 3), 2)])
OpInfo(_F + "pixel_unshuffle", [S(T(1, 1, 4, 6), 2)])
OpInfo(_F + "kl_div", [S(T(2, 3), T(2, 3, low=0.1, high=1), reduction="batchmean"),
                       S(T(3), T(3), log_target=True, reduction="sum")])
OpInfo(_F + "mse_loss", errors=[E(T(3), T(3), reduction="foo")])
for _name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"):
    OpInfo(_F + _name, errors=[E(T(2, 3), T(4, 3))])              # shapes do not broadcast
OpInfo(_F + "huber_loss", errors=[E(T(2), T(2), delta=0.0)])
OpInfo(_F + "smooth_l1_loss", errors=[E(T(2), T(2), beta=-1.0)])
OpInfo(_F + "pixel_unshuffle", errors=[E(T(1, 1, 5, 4), 2), E(T(1, 1, 4, 5), 2)])
OpInfo(_F + "pixel_shuffle", errors=[E(T(1, 3, 2, 2), 2)])
for _name in ("relu", "hardtanh", "elu"):
    OpInfo(_F + _name + " (inplace)", errors=[E(T(3))],
           op=lambda lib, x, _n=_name: getattr(lib.nn.functional, _n)(x, inplace=True))
OpInfo(_F + "pad", [S(T(1, 1, 2, 3, 3), (1, 1, 1, 0, 0, 1), mode="reflect"),
                    S(T(1, 2, 2, 3), (1, 0, 2, 1, 1, 1), mode="replicate"),
                    S(T(1, 1, 2, 2, 3), (1, 1, 0, 1, 1, 0), mode="circular")])
OpInfo(_F + "embedding", errors=[E(L([0, 5], "i64"), T(4, 3)), E(L([-1], "i64"), T(4, 3))])
