"""float16 and bfloat16 parameters: every elementwise optimizer's per-step values equal
torch's bit for bit on CPU (PyTorch computes each kernel in float32 and writes its result
in the parameter's dtype; torchlike rounds at the same places).

The parameter has 256 elements, a multiple of PyTorch's vector width: its CPU kernels
compute the leftover tail elements of a vectorized loop with Half's own arithmetic (a
rounding after each product), which depends on the machine's SIMD width.
"""
import numpy as np
import pytest
import torch

import torchlike

CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.9, eps=1e-3)),
    ("Adamax", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1)),
    ("RAdam", dict(lr=1e-2)),      # rectified from step 6 on
    ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("ASGD", dict(lr=1e-2, t0=2)),
    ("Rprop", dict(lr=1e-2)),
]


def _trajectory(lib, dtype_name, name, kwargs, w0, coefficients):
    dtype = getattr(lib, dtype_name)
    w = lib.nn.Parameter(lib.tensor(w0).to(dtype))
    opt = getattr(lib.optim, name)([w], **kwargs)
    steps = []
    for c in coefficients:
        opt.zero_grad()
        (w * lib.tensor(c).to(dtype)).sum().backward()
        opt.step()
        steps.append(w.detach().float().numpy().copy())
    return steps, str(w.dtype)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_low_precision_steps_equal_torch(name, kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(256).astype(np.float32)
    steps = 7 if name == "RAdam" else 3
    coefficients = [rng.standard_normal(256).astype(np.float32) for _ in range(steps)]
    for dtype_name in ("float16", "bfloat16"):
        ours, our_dtype = _trajectory(torchlike, dtype_name, name, kwargs, w0, coefficients)
        theirs, their_dtype = _trajectory(torch, dtype_name, name, kwargs, w0, coefficients)
        assert our_dtype == their_dtype
        for step, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_array_equal(a, b, err_msg=f"{dtype_name} step {step + 1}")
