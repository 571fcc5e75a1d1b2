"""Mixed precision against real torch on CPU: autocast's per-op dtypes (PyTorch's cast
lists), its state functions, nesting, decorator form and warnings; GradScaler's scale,
unscale_, skipped steps and scale updates; the cuda.amp aliases on a machine without a
GPU; pure-float16 optimizer updates."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, batched_ops_run, to_numpy

pytestmark = pytest.mark.usefixtures("oracle")

needs_no_gpu = pytest.mark.skipif(torchlike.cuda.is_available(),
                                  reason="compares against CPU-only torch's no-GPU behaviour")

# Each case: (label, fn(lib, x, w) -> tensor) with x (3, 4) and w (5, 4) float32 inputs.
# Which dtype comes out is PyTorch's cast list for CPU: lower precision for the matmul
# and conv family, float32 for losses/prod, promotion for cat/stack, untouched elsewhere.
_CASES = [
    ("linear", lambda lib, x, w: lib.nn.functional.linear(x, w)),
    ("linear_bias", lambda lib, x, w: lib.nn.functional.linear(x, w, w[:, 0])),
    ("mm", lambda lib, x, w: lib.mm(x, w.t())),
    ("method_mm", lambda lib, x, w: x.mm(w.t())),
    ("matmul_op", lambda lib, x, w: x @ w.t()),
    ("matmul_1d", lambda lib, x, w: lib.matmul(x[0], w[0])),
    ("bmm", lambda lib, x, w: lib.bmm(x[None], w.t()[None])),
    ("baddbmm", lambda lib, x, w: lib.baddbmm(w[None, :3, :1].expand(1, 3, 5), x[None],
                                              w.t()[None])),
    ("addmm", lambda lib, x, w: lib.addmm(w[:3, 0:1].expand(3, 5), x, w.t())),
    ("dot_not_listed_on_cpu", lambda lib, x, w: lib.dot(x[0], w[0])),
    ("einsum_reaches_bmm", lambda lib, x, w: lib.einsum("ij,kj->ik", x, w)),
    ("tensordot_reaches_mm", lambda lib, x, w: lib.tensordot(x, w.t(), 1)),
    ("multi_dot", lambda lib, x, w: lib.linalg.multi_dot([x, w.t(), w])),
    ("mv_not_listed_on_cpu", lambda lib, x, w: lib.mv(x, w[0])),
    ("sdpa", lambda lib, x, w: lib.nn.functional.scaled_dot_product_attention(
        x[None], x[None], x[None])),
    ("conv1d", lambda lib, x, w: lib.nn.functional.conv1d(x[None], w[:2, :3, None])),
    ("exp_of_low", lambda lib, x, w: lib.exp(lib.mm(x, w.t()))),
    ("softmax_of_low", lambda lib, x, w: lib.softmax(lib.mm(x, w.t()), -1)),
    ("sum_of_low", lambda lib, x, w: lib.mm(x, w.t()).sum()),
    ("prod_fp32", lambda lib, x, w: lib.prod(lib.mm(x, w.t()))),
    ("mse_fp32", lambda lib, x, w: lib.nn.functional.mse_loss(lib.mm(x, w.t()), x[:, :1].expand(3, 5))),
    ("cross_entropy_fp32", lambda lib, x, w: lib.nn.functional.cross_entropy(
        lib.mm(x, w.t()), lib.tensor([0, 1, 2]))),
    ("cat_promotes", lambda lib, x, w: lib.cat([lib.mm(x, w.t()), x[:, :1].expand(3, 5)])),
    ("stack_low_only", lambda lib, x, w: lib.stack([lib.mm(x, w.t()), lib.mm(x, w.t())])),
    ("float64_untouched", lambda lib, x, w: lib.mm(x.double(), w.t().double())),
    ("relu_of_low", lambda lib, x, w: lib.relu(lib.mm(x, w.t()))),
    ("add_promotes_normally", lambda lib, x, w: lib.mm(x, w.t()) + x[:, :1]),
    ("linear_low_input_float_weight", lambda lib, x, w: lib.nn.functional.linear(
        lib.mm(x, w.t()), w.t())),
]


def _inputs(lib):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    w = lib.tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=True)
    return x, w


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("label,fn", _CASES, ids=[c[0] for c in _CASES])
def test_cpu_autocast_output_dtype_and_value(oracle, label, fn, dtype):
    results = {}
    for lib in (oracle, torchlike):
        x, w = _inputs(lib)
        with lib.autocast("cpu", dtype=getattr(lib, dtype)):
            results[lib.__name__] = fn(lib, x, w)
    ours, theirs = results["torchlike"], results["torch"]
    assert str(ours.dtype) == str(theirs.dtype)
    # one rounding to the low dtype per input and output, sums of 4-5 terms in between:
    # a few units of the low dtype's epsilon relative to the values' magnitude
    eps = float(torchlike.finfo(getattr(torchlike, dtype)).eps)
    scale = float(np.abs(to_numpy(theirs)).max()) + 1.0
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=8 * eps,
                               atol=8 * eps * scale)


def test_autocast_gradients_flow_back_to_float32_weights(oracle):
    grads = {}
    for lib in (oracle, torchlike):
        x, w = _inputs(lib)
        with lib.autocast("cpu"):
            y = lib.nn.functional.linear(x, w)
        assert str(y.dtype) == "torch.bfloat16"
        y.float().sum().backward()
        assert str(w.grad.dtype) == "torch.float32"
        grads[lib.__name__] = to_numpy(w.grad)
    np.testing.assert_allclose(grads["torchlike"], grads["torch"], rtol=2 ** -7 * 4, atol=0.05)


def test_state_functions_nesting_and_restore(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        log = [lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
               str(lib.get_autocast_dtype("cuda")), lib.is_autocast_enabled(),
               lib.is_autocast_cache_enabled()]
        with lib.autocast("cpu", dtype=lib.float16):
            log += [lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
                    lib.is_autocast_enabled()]
            with lib.autocast("cpu", enabled=False):
                x, w = _inputs(lib)
                log += [lib.is_autocast_enabled("cpu"), str(lib.mm(x, w.t()).dtype)]
            log += [lib.is_autocast_enabled("cpu"), str(lib.mm(*_inputs(lib)[::-1][::-1][:1],
                                                               _inputs(lib)[1].t()).dtype)]
        log += [lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
                str(lib.mm(*_inputs(lib)[:1], _inputs(lib)[1].t()).dtype)]
        seen[lib.__name__] = log
    assert seen["torchlike"] == seen["torch"]


def test_autocast_as_decorator_and_amp_namespace(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        @lib.amp.autocast("cpu", dtype=lib.bfloat16)
        def product(x, w):
            return lib.mm(x, w.t())
        x, w = _inputs(lib)
        seen[lib.__name__] = (str(product(x, w).dtype), lib.is_autocast_enabled("cpu"),
                              lib.amp.is_autocast_available("cpu"))
    assert seen["torchlike"] == seen["torch"]


def test_wrappers_are_removed_after_the_region():
    """Outside autocast, the public functions are the originals (no cost when off)."""
    before = (torchlike.mm, torchlike.Tensor.__matmul__, torchlike.nn.functional.linear)
    with torchlike.autocast("cpu"):
        assert torchlike.mm is not before[0]
    assert (torchlike.mm, torchlike.Tensor.__matmul__,
            torchlike.nn.functional.linear) == before


@pytest.mark.parametrize("kwargs", [
    dict(device_type="cpu", dtype="float32"), dict(device_type="cpu", dtype="float64"),
    dict(device_type="cpu", dtype="int32"), dict(device_type="cuda"),
    dict(device_type="cuda", dtype="bfloat16"),
])
@needs_no_gpu
def test_unsupported_settings_warn_and_disable(oracle, kwargs):
    seen = {}
    for lib in (oracle, torchlike):
        args = dict(kwargs)
        if "dtype" in args:
            args["dtype"] = getattr(lib, args["dtype"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autocast(**args):
                state = [lib.is_autocast_enabled("cpu"), lib.is_autocast_enabled("cuda"),
                         str(lib.get_autocast_dtype(args["device_type"]))]
        seen[lib.__name__] = (state, [str(c.message) for c in caught])
    assert seen["torchlike"] == seen["torch"]


@pytest.mark.parametrize("make", [
    lambda lib: lib.autocast(1),
    lambda lib: lib.autocast("xyz"),
])
def test_bad_device_type_errors(make):
    assert_raises_same(make)


# -- GradScaler ------------------------------------------------------------------------------
def _train_with_scaler(lib, steps=8, bad_step=4, dtype="bfloat16", **scaler_kwargs):
    """A small MLP trained under autocast with a GradScaler; one step gets an inf grad."""
    rng = np.random.default_rng(1)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    x = lib.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 3, 16))
    log = []
    for step in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu", dtype=getattr(lib, dtype)):
            loss = lib.nn.functional.cross_entropy(model(x), y)
        scaled = scaler.scale(loss)
        scaled.backward()
        if step == bad_step:
            model[0].weight.grad[0, 0] = float("nan" if step % 2 else "inf")
        before = to_numpy(model[0].weight).copy()
        scaler.step(opt)
        skipped = bool((to_numpy(model[0].weight) == before).all())
        scaler.update()
        log.append((str(scaled.dtype), float(loss.item()), float(scaled.item()),
                    scaler.get_scale(), scaler._get_growth_tracker(), skipped))
    return log, scaler.state_dict()


@pytest.mark.parametrize("kwargs", [dict(init_scale=2.0 ** 20, growth_interval=3),
                                    dict(init_scale=8.0, growth_factor=4.0,
                                         backoff_factor=0.25, growth_interval=2)])
def test_grad_scaler_skips_bad_steps_and_updates_the_scale_like_torch(oracle, kwargs):
    ours, our_state = _train_with_scaler(torchlike, **kwargs)
    theirs, their_state = _train_with_scaler(oracle, **kwargs)
    assert our_state == their_state
    for a, b in zip(ours, theirs):
        assert (a[0], a[3], a[4], a[5]) == (b[0], b[3], b[4], b[5])
        # bfloat16 matmuls on both sides: losses agree to a few bfloat16 ulps
        np.testing.assert_allclose(a[1], b[1], rtol=2 ** -7 * 4)
        np.testing.assert_allclose(a[2], b[2], rtol=2 ** -7 * 4)


def test_grad_scaler_unscale_then_clip_and_scale_of_nested_outputs(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        opt = lib.optim.SGD([w], lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=64.0)
        a, (b, c) = scaler.scale([w.sum(), (w[0] * 2, w[1])])
        (a + b + c).backward()
        scaled_grad = to_numpy(w.grad).copy()
        scaler.unscale_(opt)
        norm = lib.nn.utils.clip_grad_norm_([w], 1.0)
        scaler.step(opt)
        scaler.update()
        seen[lib.__name__] = (scaled_grad, to_numpy(w.grad), float(norm), to_numpy(w),
                              scaler.get_scale())
    for ours, theirs in zip(seen["torchlike"], seen["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("bad", [None, "inf", "nan"])
def test_unscale_of_all_gradients_in_one_op_matches_torch(oracle, bad, monkeypatch):
    # the gradients of one device are unscaled and checked by one pending op
    # (grad_scaler._unscale_op): torch's values, a 0-dim found_inf, gradients kept as
    # the same objects at their versions (torch's fused kernel does not bump them)
    ran = batched_ops_run(monkeypatch)
    seen = []
    for lib in (oracle, torchlike):
        params = [lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0])),
                  lib.nn.Parameter(lib.tensor([[0.5, 1.0]], dtype=lib.float64)),
                  lib.nn.Parameter(lib.tensor(2.0))]
        opt = lib.optim.SGD(params, lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=64.0)
        w, v, z = params
        scaler.scale(w.sum() * 3 + (v * v).sum() + z * 5).backward()
        if bad:
            v.grad[0, 1] = float(bad)
        grads, versions = [p.grad for p in params], [p.grad._version for p in params]
        scaler.unscale_(opt)
        found = scaler._per_optimizer_states[id(opt)]["found_inf_per_device"]
        seen.append(([repr(f) for f in found.values()],
                     [p.grad is g for p, g in zip(params, grads)],
                     [p.grad._version - n for p, n in zip(params, versions)],
                     [(str(p.grad.dtype), str(p.grad.tolist())) for p in params]))
    assert seen[1] == seen[0]
    assert ran == ["amp_unscale"]


@pytest.mark.parametrize("misuse", ["unscale_twice", "unscale_after_step", "step_twice",
                                    "step_before_scale", "closure", "fp16_grads",
                                    "growth_factor", "backoff_factor", "empty_state"])
def test_grad_scaler_errors(misuse):
    def run(lib):
        w = lib.nn.Parameter(lib.ones(2, dtype=lib.float16 if misuse == "fp16_grads"
                                      else lib.float32))
        opt = lib.optim.SGD([w], lr=0.1)
        if misuse == "growth_factor":
            lib.amp.GradScaler("cpu", growth_factor=1.0)
        if misuse == "backoff_factor":
            lib.amp.GradScaler("cpu", backoff_factor=1.0)
        scaler = lib.amp.GradScaler("cpu")
        if misuse == "empty_state":
            scaler.load_state_dict({})
        if misuse == "step_before_scale":
            scaler.step(opt)
        scaler.scale(w.sum()).backward()
        if misuse == "closure":
            scaler.step(opt, closure=lambda: 0)
        scaler.unscale_(opt)
        if misuse in ("unscale_twice", "fp16_grads"):
            scaler.unscale_(opt)
        scaler.step(opt)
        if misuse == "unscale_after_step":
            scaler.unscale_(opt)
        if misuse == "step_twice":
            scaler.step(opt)
    assert_raises_same(run)


def test_disabled_scaler_passes_through(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        scaler = lib.amp.GradScaler("cpu", enabled=False)
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.5)
        loss = w.sum()
        assert scaler.scale(loss) is loss
        loss.backward()
        scaler.step(opt)
        scaler.update()
        seen[lib.__name__] = (scaler.get_scale(), scaler.state_dict(), scaler.is_enabled(),
                              w.tolist())
    assert seen["torchlike"] == seen["torch"]


@needs_no_gpu
def test_cuda_and_cpu_amp_aliases_warn_like_torch(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.cuda.amp.autocast():
                enabled = lib.is_autocast_enabled("cuda")
            scaler = lib.cuda.amp.GradScaler()
            amp_scaler = lib.amp.GradScaler()          # device 'cuda' by default
            with lib.cpu.amp.autocast():
                cpu_state = (lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")))
            cpu_scaler = lib.cpu.amp.GradScaler()
        seen[lib.__name__] = (enabled, scaler.is_enabled(), amp_scaler.is_enabled(), cpu_state,
                              cpu_scaler.is_enabled(),
                              [(c.category.__name__, str(c.message)) for c in caught])
    assert seen["torchlike"] == seen["torch"]


def test_custom_fwd_casts_inputs_and_custom_bwd_restores_state(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        class Square(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
            def forward(ctx, x):
                ctx.save_for_backward(x)
                ctx.inner = (str(x.dtype), lib.is_autocast_enabled("cpu"))
                return x * x

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                ctx.backward_state = lib.is_autocast_enabled("cpu")
                (x,) = ctx.saved_tensors
                return 2 * x * g
        x = lib.tensor([1.0, 2.0], dtype=lib.bfloat16, requires_grad=True)
        with lib.autocast("cpu"):
            y = Square.apply(x)
        y.sum().backward()
        seen[lib.__name__] = (str(y.dtype), y.grad_fn.inner if hasattr(y.grad_fn, "inner")
                              else None, x.grad.tolist())
    assert seen["torchlike"] == seen["torch"]


# -- half-precision optimizer updates ------------------------------------------------------
# PyTorch rounds each kernel's result to float16 (sqrt, /bias_correction, +eps ...), so
# eps=1e-8 vanishes and the step divides by zero; torchlike's update rules round at the
# same places (optim/_elementwise.py `stored`). Per-step values: tests/test_optim_half.py.
def test_pure_float16_adamw_overflows_like_torch(oracle):
    """AdamW with eps=1e-8 on float16 parameters: eps underflows to 0 in float16 and the
    squared gradients of tiny values do too, so the update divides by zero (inf/NaN) in
    torch; torchlike must compute in float16 as well, not silently in float32."""
    seen = {}
    for lib in (oracle, torchlike):
        w = lib.nn.Parameter(lib.tensor([1e-4, 1.0, -2.0], dtype=lib.float16))
        opt = lib.optim.AdamW([w], lr=1e-3)
        for _ in range(2):
            opt.zero_grad()
            (w * lib.tensor([1e-5, 1.0, 3.0], dtype=lib.float16)).sum().backward()
            opt.step()
        seen[lib.__name__] = (str(w.dtype), to_numpy(w).tolist(),
                              str(opt.state[w]["exp_avg_sq"].dtype))
    ours, theirs = seen["torchlike"], seen["torch"]
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    np.testing.assert_array_equal(np.isfinite(ours[1]), np.isfinite(theirs[1]))
    np.testing.assert_allclose(ours[1], theirs[1], rtol=2 ** -10 * 4)


# -- examples/amp_train.py ---------------------------------------------------------------
def _load_example(replace_import):
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "amp_train.py"
    source = path.read_text()
    if replace_import:
        source = source.replace("import torchlike", "import torch").replace("torchlike.", "torch.")
        assert "torchlike" not in source.split('"""', 2)[2]
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("amp_train",
                                                                            loader=None))
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def test_amp_example_matches_torch(oracle, capsys):
    """The example trains the same under both: the same scales and skipped steps exactly,
    losses equal up to float16 rounding (products in float16, a few ulps per step)."""
    argv = ["--steps", "30", "--print-every", "10"]
    ours, our_accuracy = _load_example(False).main(argv)
    threads = oracle.get_num_threads()
    oracle.set_num_threads(1)           # torch's spinning threads fight JAX's for the cores
    try:
        theirs, their_accuracy = _load_example(True).main(argv)
    finally:
        oracle.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "skipped: inf/nan gradients" in out and "step taken" in out
    assert "logits dtype torch.float16, loss dtype torch.float32" in out
    assert [(s, scale, taken) for s, _, scale, taken in ours] == \
           [(s, scale, taken) for s, _, scale, taken in theirs]
    np.testing.assert_allclose([h[1] for h in ours], [h[1] for h in theirs], rtol=2e-3)
    assert ours[-1][1] < ours[0][1] * 0.8       # it learns
    assert abs(our_accuracy - their_accuracy) <= 0.01


# -- modules under autocast: the dtype each returns, as PyTorch's CPU lists decide ---------
_MODULE_CASES = {
    "multihead_attention": lambda lib, x: lib.nn.MultiheadAttention(8, 2)(x, x, x)[0],
    "transformer_encoder_layer": lambda lib, x: lib.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0)(x),
    "lstm_low_on_cpu": lambda lib, x: lib.nn.LSTM(8, 4)(x)[0],
    "gru_float32_on_cpu": lambda lib, x: lib.nn.GRU(8, 4)(x)[0],
    "lstm_cell": lambda lib, x: lib.nn.LSTMCell(8, 4)(x[0])[0],
    "bilinear": lambda lib, x: lib.nn.Bilinear(8, 8, 3)(x[0], x[0]),
    "conv1d_module": lambda lib, x: lib.nn.Conv1d(5, 3, 3)(x.transpose(0, 1)),
    "cross_entropy_module": lambda lib, x: lib.nn.CrossEntropyLoss()(
        lib.nn.Linear(8, 3)(x[0]), lib.tensor([0, 1])),
    "bce_with_logits_module": lambda lib, x: lib.nn.BCEWithLogitsLoss()(
        lib.nn.Linear(8, 1)(x[0]), lib.ones(2, 1)),
    "gelu_after_linear": lambda lib, x: lib.nn.functional.gelu(lib.nn.Linear(8, 8)(x)),
    # a bfloat16 input with float32 weights: the input's dtype, as PyTorch's kernel
    "layer_norm_after_linear": lambda lib, x: lib.nn.LayerNorm(8)(lib.nn.Linear(8, 8)(x)),
    "batch_norm_after_conv": lambda lib, x: lib.nn.BatchNorm1d(2)(lib.nn.Conv1d(2, 2, 3)(x)),
}


@pytest.mark.parametrize("make", list(_MODULE_CASES.values()), ids=list(_MODULE_CASES))
def test_modules_under_cpu_autocast_return_torchs_dtype(oracle, make):
    dtypes = []
    for lib in (oracle, torchlike):
        x = lib.tensor(np.random.default_rng(0).standard_normal((5, 2, 8)).astype(np.float32))
        with lib.autocast("cpu"):
            try:
                dtypes.append(str(make(lib, x).dtype))
            except RuntimeError as e:
                if lib is torchlike or "could not create a primitive descriptor" not in str(e):
                    raise
                # (PyTorch's oneDNN has no bfloat16 LSTM for a CPU without AVX-512: the
                # oracle itself cannot run the case there)
                pytest.skip(f"PyTorch cannot run it on this CPU ({e})".split(". Run")[0])
    assert dtypes[0] == dtypes[1]


@pytest.mark.skipif(not torchlike.cuda.is_available(), reason="needs a GPU")
def test_cuda_autocast_follows_the_cuda_lists():
    """CUDA's lists (ATen's AT_FORALL_* macros): products in float16, exp/log/softmax/sum
    of float16 in float32, cat promoted, binary_cross_entropy refused."""
    x = torchlike.randn(4, 4, device="cuda")
    with torchlike.autocast("cuda"):
        low = torchlike.mm(x, x)
        assert low.dtype is torchlike.float16
        assert torchlike.exp(low).dtype is torchlike.float32
        assert torchlike.softmax(low, -1).dtype is torchlike.float32
        assert low.sum().dtype is torchlike.float32
        assert torchlike.cat([low, x]).dtype is torchlike.float32
        assert torchlike.relu(low).dtype is torchlike.float16
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            torchlike.nn.functional.binary_cross_entropy(torchlike.sigmoid(low), low.float())
    scaler = torchlike.amp.GradScaler("cuda")
    assert scaler.is_enabled() and scaler.get_scale() == 65536.0


def test_cuda_policies_on_a_machine_without_gpu(monkeypatch):
    """The CUDA lists' logic, exercised on CPU tensors by treating them as CUDA ones:
    expected dtypes are ATen's CUDA lists (lower precision / fp32 / fp32 with dtype set /
    promote / banned), read from its autocast_mode.h."""
    from torchlike.amp import autocast_mode as mode
    monkeypatch.setattr(mode, "_first_device_type",
                        lambda args, kwargs: "cuda")
    monkeypatch.setattr(mode, "_eligible", lambda x, device_type: (
        isinstance(x, torchlike.Tensor) and x.dtype.is_floating_point
        and x.dtype is not torchlike.float64))
    x = torchlike.randn(4, 4)
    try:
        mode.set_autocast_dtype("cuda", torchlike.float16)
        mode.set_autocast_enabled("cuda", True)
        low = torchlike.mm(x, x)
        seen = [low.dtype, torchlike.exp(low).dtype, torchlike.softmax(low, -1).dtype,
                low.sum().dtype, torchlike.cat([low, x]).dtype, torchlike.relu(low).dtype,
                torchlike.einsum("ij,jk->ik", x, x).dtype, torchlike.dot(low[0], x[0]).dtype,
                torchlike.nn.functional.layer_norm(low, (4,)).dtype,
                torchlike.nn.LSTM(4, 2)(x[None])[0].dtype,
                torchlike.nn.functional.cross_entropy(low, torchlike.tensor([0, 1, 2, 3])).dtype]
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            torchlike.nn.functional.binary_cross_entropy(torchlike.sigmoid(x), x.sigmoid())
    finally:
        mode.set_autocast_enabled("cuda", False)
    f16, f32 = torchlike.float16, torchlike.float32
    assert seen == [f16, f32, f32, f32, f32, f16, f16, f32, f32, f16, f32]


def test_weight_cast_cache_keeps_history_after_a_no_grad_use(oracle):
    """A weight first cast under no_grad must still carry gradients when the same region
    uses it again with grad mode on; and a cached cast is shared within the region."""
    seen = {}
    for lib in (oracle, torchlike):
        w = lib.nn.Parameter(lib.ones(2, 2))
        x = lib.ones(1, 2)
        with lib.autocast("cpu"):
            with lib.no_grad():
                lib.nn.functional.linear(x, w)
            first = lib.nn.functional.linear(x, w)
            second = lib.nn.functional.linear(x, w)
        (first.float().sum() + second.float().sum()).backward()
        seen[lib.__name__] = (first.requires_grad, w.grad.tolist())
    assert seen["torchlike"] == seen["torch"]


def test_grad_scaler_load_state_dict_then_continue(oracle):
    state = {"scale": 1024.0, "growth_factor": 3.0, "backoff_factor": 0.25,
             "growth_interval": 3, "_growth_tracker": 2}
    seen = {}
    for lib in (oracle, torchlike):
        scaler = lib.amp.GradScaler("cpu")
        scaler.load_state_dict(dict(state))
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1)
        log = [scaler.get_scale()]
        for bad in (False, True, False):
            opt.zero_grad()
            scaler.scale((w * (float("inf") if bad else 1.0)).sum()).backward()
            scaler.step(opt)
            scaler.update()
            log.append(scaler.state_dict())
        seen[lib.__name__] = (log, w.tolist())
    assert seen["torchlike"] == seen["torch"]
