"""Infrastructure names against real torch: finfo/iinfo and constants, torch.backends
flags, matmul precision, thread and determinism settings, torch.cuda and
torch.accelerator on a machine without a GPU (the oracle is CPU-only torch), and the
TorchScript / ONNX / export / hub stand-ins."""
import math
import warnings

import pytest

import torchlike
from helpers import assert_raises_same

pytestmark = pytest.mark.usefixtures("oracle")

needs_no_gpu = pytest.mark.skipif(torchlike.cuda.is_available(),
                                  reason="compares against CPU-only torch's no-GPU behaviour")

_FLOATS = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
_INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", _FLOATS)
def test_finfo_matches(oracle, name):
    ours, theirs = torchlike.finfo(getattr(torchlike, name)), oracle.finfo(getattr(oracle, name))
    assert repr(ours) == repr(theirs)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_finfo_default_and_equality(oracle):
    assert repr(torchlike.finfo()) == repr(oracle.finfo())
    assert torchlike.finfo(torchlike.float32) == torchlike.finfo(torchlike.float32)
    assert torchlike.finfo(torchlike.float32) != torchlike.finfo(torchlike.float16)


@pytest.mark.parametrize("name", _INTS)
def test_iinfo_matches(oracle, name):
    ours, theirs = torchlike.iinfo(getattr(torchlike, name)), oracle.iinfo(getattr(oracle, name))
    assert repr(ours) == repr(theirs)
    assert (ours.bits, ours.min, ours.max, ours.dtype) == \
           (theirs.bits, theirs.min, theirs.max, theirs.dtype)


@pytest.mark.parametrize("call", [
    lambda lib: lib.finfo(lib.int32), lambda lib: lib.finfo(3), lambda lib: lib.finfo("x"),
    lambda lib: lib.iinfo(lib.float32), lambda lib: lib.iinfo(lib.bool),
])
def test_type_info_errors(call):
    assert_raises_same(call)


def test_type_info_is_unhashable_like_torch():
    with pytest.raises(TypeError, match="unhashable"):
        hash(torchlike.finfo(torchlike.float32))


def test_constants(oracle):
    for name in ("inf", "pi", "e"):
        assert getattr(torchlike, name) == getattr(oracle, name)
    assert math.isnan(torchlike.nan) and torchlike.newaxis is oracle.newaxis is None
    x = torchlike.ones(3)
    assert tuple(x[torchlike.newaxis].shape) == (1, 3)


# -- backends -------------------------------------------------------------------------------
def _backend_flags(lib):
    b = lib.backends
    return (b.cuda.matmul.allow_tf32, b.cuda.matmul.allow_fp16_reduced_precision_reduction,
            b.cuda.matmul.allow_bf16_reduced_precision_reduction, b.cudnn.benchmark,
            b.cudnn.deterministic, b.cudnn.enabled, b.cudnn.allow_tf32, b.cudnn.is_available(),
            b.mps.is_available(), b.mps.is_built(), b.opt_einsum.enabled,
            b.opt_einsum.strategy, b.opt_einsum.is_available(), b.mkldnn.enabled,
            b.cuda.flash_sdp_enabled(), b.cuda.math_sdp_enabled(),
            b.cuda.mem_efficient_sdp_enabled(), lib.get_float32_matmul_precision())


@needs_no_gpu
def test_backend_flags_defaults_match(oracle):
    assert _backend_flags(torchlike) == _backend_flags(oracle)
    assert torchlike.backends.cuda.is_built() == oracle.backends.cuda.is_built()
    assert torchlike.backends.cpu.get_cpu_capability() == \
           oracle.backends.cpu.get_cpu_capability()


def test_backend_flags_are_settable_and_restorable(oracle):
    # importing torch.testing._internal (test_opdb.py, in the same worker) freezes torch's
    # global flags; PyTorch's own tests set them inside this context manager
    with oracle.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation"]():
        _flags_round_trip(oracle)


def _flags_round_trip(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        b = lib.backends
        saved = (b.cudnn.benchmark, b.cudnn.deterministic)
        try:
            b.cudnn.benchmark, b.cudnn.deterministic = True, True
            inside = []
            with b.cudnn.flags(enabled=False, benchmark=False):
                inside.append((b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic))
            after = (b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic)
            b.cuda.enable_flash_sdp(False)
            flash = b.cuda.flash_sdp_enabled()
            b.cuda.enable_flash_sdp(True)
        finally:
            b.cudnn.benchmark, b.cudnn.deterministic = saved
        seen[lib.__name__] = (inside, after, flash)
    assert seen["torchlike"] == seen["torch"]


@pytest.mark.parametrize("call", [lambda lib: lib.backends.cuda.matmul.foo,
                                  lambda lib: setattr(lib.backends.cuda.matmul, "foo", 1),
                                  lambda lib: lib.backends.mps.is_macos13_or_newer()])
def test_backend_errors(call):
    assert_raises_same(call)


def test_matmul_precision_maps_tf32_to_jax(oracle):
    import jax
    seen = {}
    for lib in (oracle, torchlike):
        log = []
        try:
            for value in ("high", "medium", "highest"):
                lib.set_float32_matmul_precision(value)
                log.append((lib.get_float32_matmul_precision(),
                            lib.backends.cuda.matmul.allow_tf32))
                if lib is torchlike:
                    assert jax.config.jax_default_matmul_precision == {
                        "high": "tensorfloat32", "medium": "bfloat16",
                        "highest": "highest"}[value]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.set_float32_matmul_precision("fastest")
            log.append((lib.get_float32_matmul_precision(), len(caught)))
        finally:
            lib.set_float32_matmul_precision("highest")
        seen[lib.__name__] = log
    assert seen["torchlike"] == seen["torch"]


def test_threads_and_determinism(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        n = lib.get_num_threads()
        try:
            lib.set_num_threads(3)
            log = [lib.get_num_threads()]
            lib.use_deterministic_algorithms(True, warn_only=True)
            log += [lib.are_deterministic_algorithms_enabled(),
                    lib.is_deterministic_algorithms_warn_only_enabled(),
                    lib.get_deterministic_debug_mode()]
            lib.set_deterministic_debug_mode("error")
            log += [lib.get_deterministic_debug_mode(), lib.are_deterministic_algorithms_enabled()]
        finally:
            lib.set_num_threads(n)
            lib.use_deterministic_algorithms(False)
        log.append(lib.are_deterministic_algorithms_enabled())
        seen[lib.__name__] = log
    assert seen["torchlike"] == seen["torch"]


@pytest.mark.parametrize("call", [
    lambda lib: lib.set_num_threads(0), lambda lib: lib.set_num_threads("a"),
    lambda lib: lib.set_num_interop_threads(0),
    lambda lib: lib.use_deterministic_algorithms("x"),
    lambda lib: lib.set_deterministic_debug_mode("x"),
    lambda lib: lib.set_deterministic_debug_mode(5),
    lambda lib: lib.set_deterministic_debug_mode(1.5),
])
def test_settings_errors(call):
    assert_raises_same(call)


# -- torch.cuda and torch.accelerator without a GPU --------------------------------------------
_CUDA_CALLS = {
    "current_device": lambda lib: lib.cuda.current_device(),
    "set_device_cpu": lambda lib: lib.cuda.set_device("cpu"),
    "synchronize": lambda lib: lib.cuda.synchronize(),
    "get_device_properties": lambda lib: lib.cuda.get_device_properties(0),
    "get_device_name": lambda lib: lib.cuda.get_device_name(),
    "get_device_capability": lambda lib: lib.cuda.get_device_capability(),
    "Stream": lambda lib: lib.cuda.Stream(),
    "Event": lambda lib: lib.cuda.Event(enable_timing=True),
    "device_context": lambda lib: lib.cuda.device(0).__enter__(),
    "init": lambda lib: lib.cuda.init(),
    "current_stream": lambda lib: lib.cuda.current_stream(),
    "mem_get_info": lambda lib: lib.cuda.mem_get_info(),
    "get_rng_state": lambda lib: lib.cuda.get_rng_state(),
    "initial_seed": lambda lib: lib.cuda.initial_seed(),
    "accelerator_index": lambda lib: lib.accelerator.current_device_index(),
    "accelerator_sync": lambda lib: lib.accelerator.synchronize(),
    "accelerator_memory": lambda lib: lib.accelerator.memory_allocated(),
    "accelerator_set": lambda lib: lib.accelerator.set_device_index(0),
}


@needs_no_gpu
@pytest.mark.parametrize("name", sorted(_CUDA_CALLS))
def test_cuda_calls_that_need_a_gpu_raise_like_torch(name):
    assert_raises_same(_CUDA_CALLS[name])


@needs_no_gpu
def test_cuda_queries_without_gpu_match(oracle):
    def answers(lib):
        c = lib.cuda
        c.empty_cache()
        c.manual_seed_all(1)
        c.manual_seed(1)
        c.set_device(-1)
        with c.device(-1):
            pass
        with c.device_of(lib.zeros(1)):
            pass
        return (c.is_available(), c.device_count(), c.is_initialized(), c.memory_allocated(),
                c.max_memory_allocated(), c.memory_reserved(), c.max_memory_reserved(),
                dict(c.memory_stats()), c.is_bf16_supported(),
                c.is_bf16_supported(including_emulation=False), c.get_arch_list(),
                c.get_rng_state_all(), lib.accelerator.is_available(),
                lib.accelerator.device_count(), lib.accelerator.current_accelerator())
    assert answers(torchlike) == answers(oracle)


@needs_no_gpu
def test_renamed_memory_functions_warn_like_torch(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = (lib.cuda.memory_cached(), lib.cuda.max_memory_cached())
        seen[lib.__name__] = (values, [(c.category.__name__, str(c.message)) for c in caught])
    assert seen["torchlike"] == seen["torch"]


@pytest.mark.skipif(not torchlike.cuda.is_available(), reason="needs a GPU")
def test_cuda_surface_on_a_gpu():
    """With a GPU the answers come from JAX: memory grows with a live array, the peak
    follows a reset, events time work, streams synchronize."""
    c = torchlike.cuda
    assert c.current_device() == 0 and isinstance(c.get_device_name(), str)
    props = c.get_device_properties(0)
    assert props.total_memory > 0 and c.get_device_capability() == (props.major, props.minor)
    c.synchronize()
    before = c.memory_allocated()
    x = torchlike.ones(1024, 1024, device="cuda")
    float(x.sum())
    assert c.memory_allocated() >= before + 4 * 1024 * 1024
    c.reset_peak_memory_stats()
    assert c.max_memory_allocated() >= c.memory_allocated()
    start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
    start.record()
    (x @ x).sum().item()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    c.Stream().synchronize()
    # device-generic handles default to the accelerator, as PyTorch's do
    assert (torchlike.Stream().device_type, torchlike.Event().device_type) == ("cuda", "cuda")
    begin, finish = torchlike.Event(enable_timing=True), torchlike.Event(enable_timing=True)
    begin.record()
    finish.record()
    assert begin.elapsed_time(finish) >= 0
    assert torchlike.backends.cuda.is_flash_attention_available()
    with c.device(0):
        assert c.current_device() == 0


# -- jit, onnx, export, hub ---------------------------------------------------------------------
def test_jit_script_and_trace_return_working_callables_with_one_warning(oracle):
    model = torchlike.nn.Linear(3, 2)
    x = torchlike.ones(1, 3)
    torchlike.jit._warned[0] = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scripted = torchlike.jit.script(model)
        traced = torchlike.jit.trace(model, x)

        @torchlike.jit.script
        def double(t):
            return t * 2
    assert len(caught) == 1 and "no TorchScript is produced" in str(caught[0].message)
    assert scripted(x).tolist() == model(x).tolist() == traced(x).tolist()
    assert double(x).tolist() == [[2.0, 2.0, 2.0]]


def test_jit_annotations_behave_like_torch(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        class M(lib.nn.Module):
            scale: lib.jit.Final[int] = 2

            @lib.jit.ignore
            def helper(self, x):
                return x + 1

            @lib.jit.unused
            def unused(self, x):
                return x

            @lib.jit.export
            def exported(self, x):
                return x * self.scale

            def forward(self, x):
                return self.exported(self.helper(x))
        seen[lib.__name__] = (M()(lib.ones(2)).tolist(), lib.jit.is_scripting(),
                              lib.jit.is_tracing(), lib.jit.annotate(int, 3),
                              lib.jit.isinstance([1], list[int]), lib.jit.Final is not None)
    assert seen["torchlike"] == seen["torch"]


@pytest.mark.parametrize("call,kind", [
    (lambda: torchlike.jit.save(None, "m.pt"), RuntimeError),
    (lambda: torchlike.jit.load("m.pt"), RuntimeError),
    (lambda: torchlike.onnx.export(torchlike.nn.Linear(2, 2), torchlike.ones(2), "m.onnx"),
     RuntimeError),
    (lambda: torchlike.export.export(torchlike.nn.Linear(2, 2), (torchlike.ones(2),)),
     NotImplementedError),
    (lambda: torchlike.hub.load("pytorch/vision", "resnet18"), NotImplementedError),
    (lambda: torchlike.hub.load_state_dict_from_url("https://x/y.pt"), NotImplementedError),
])
def test_unsupported_features_fail_clearly(call, kind):
    """The error names the feature and what to use instead."""
    with pytest.raises(kind) as info:
        call()
    assert "not supported by torchlike" in str(info.value)
    assert "instead" in str(info.value).lower()


def test_hub_dir_follows_torch_home(oracle, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert torchlike.hub.get_dir() == oracle.hub.get_dir()
    assert torchlike.onnx.is_in_onnx_export() is oracle.onnx.is_in_onnx_export() is False


def test_submodules_import_like_torch():
    import importlib
    for name in ("torchlike.amp", "torchlike.cuda.amp", "torchlike.backends.cudnn",
                 "torchlike.backends.cuda", "torchlike.backends.mps", "torchlike.jit",
                 "torchlike.onnx", "torchlike.export", "torchlike.hub", "torchlike.accelerator"):
        assert importlib.import_module(name) is not None


# -- the smaller names: generic streams/events, torch.cpu, legacy spellings, build flags -------
@needs_no_gpu   # with a GPU both default to it, and torch's new stream has a pool id of its own
def test_generic_stream_and_event_on_cpu(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        stream = lib.Stream()
        stream.synchronize()
        seen[lib.__name__] = (repr(stream), repr(lib.Event()), stream.query(),
                              stream == lib.Stream(), lib.cpu.is_available(),
                              lib.cpu.device_count(), lib.cpu.current_device(),
                              lib.get_device_module("cpu").__name__.split(".")[-1])
    assert seen["torchlike"] == seen["torch"]


@needs_no_gpu   # with a GPU, Event() is a CUDA event and records (test_cuda_surface_on_a_gpu)
@pytest.mark.parametrize("call", [lambda lib: lib.Event().record(),
                                  lambda lib: lib.Event().elapsed_time(lib.Event())])
def test_generic_event_errors(call):
    assert_raises_same(call)


@pytest.mark.parametrize("name,args", [
    ("is_autocast_cpu_enabled", ()), ("get_autocast_cpu_dtype", ()),
    ("get_autocast_gpu_dtype", ()), ("set_autocast_cpu_enabled", (False,)),
])
def test_legacy_autocast_spellings_warn_like_torch(oracle, name, args):
    seen = {}
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(lib, name)(*args)
        # torch appends where in its C++ source the warning was raised; compare the text
        messages = [str(c.message).split(" (Triggered internally")[0] for c in caught]
        seen[lib.__name__] = (str(value), [c.category.__name__ for c in caught], messages)
    assert seen["torchlike"] == seen["torch"]


def test_build_flags_and_warn_always(oracle):
    for lib in (oracle, torchlike):
        assert (lib.has_lapack, lib.has_mkl, lib.has_openmp, lib.has_spectral) == \
               (True, True, True, True)
        assert lib.is_warn_always_enabled() is False
        lib.set_warn_always(True)
        assert lib.is_warn_always_enabled() is True
        lib.set_warn_always(False)
        assert lib.set_flush_denormal(False) is True and lib.init_num_threads() is None
    assert issubclass(torchlike.OutOfMemoryError, RuntimeError)
    assert torchlike.cuda.OutOfMemoryError is torchlike.OutOfMemoryError


@needs_no_gpu
@pytest.mark.parametrize("call", [
    lambda lib: lib.cuda.FloatTensor([1.0]), lambda lib: lib.cuda.LongTensor(2),
    lambda lib: lib.cuda.get_sync_debug_mode(), lambda lib: lib.cuda.current_blas_handle(),
    lambda lib: lib.cuda.get_per_process_memory_fraction(),
    lambda lib: lib.cuda.can_device_access_peer(0, 1), lambda lib: lib.cuda.clock_rate(),
    lambda lib: lib.cuda.memory_summary(), lambda lib: lib.cuda.graph(None),
])
def test_more_cuda_calls_raise_like_torch_without_gpu(call):
    assert_raises_same(call)


@needs_no_gpu
def test_more_cuda_answers_without_gpu(oracle):
    def answers(lib):
        c = lib.cuda
        c.set_stream(None)
        return (c.is_tf32_supported(), c.has_half, c.has_magma, c.default_generators,
                c.list_gpu_processes(), c.memory_stats_as_nested_dict(),
                dict(c.host_memory_stats()), c.get_gencode_flags(),
                isinstance(lib.zeros(1), c.FloatTensor), c.cudaStatus.SUCCESS,
                issubclass(c.CudaError, RuntimeError))
    assert answers(torchlike) == answers(oracle)


def test_jit_futures_and_fuser_behave_eagerly(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        with lib.jit.fuser("fuser1"):
            pass
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            future = lib.jit.fork(lambda a, b: a + b, 2, 3)
            result = lib.jit.wait(future)
            with lib.jit.strict_fusion():
                pass
        seen[lib.__name__] = (result, future.wait(), lib.jit.Attribute(1, int),
                              lib.jit.last_executed_optimized_graph(),
                              [str(c.message) for c in caught])
    assert seen["torchlike"][:2] == seen["torch"][:2]
    assert tuple(seen["torchlike"][2]) == tuple(seen["torch"][2])
    assert seen["torchlike"][3:] == seen["torch"][3:]


def test_backend_set_flags_return_previous_values(oracle):
    seen = {}
    for lib in (oracle, torchlike):
        b = lib.backends
        previous = b.cudnn.set_flags(False)
        restored = b.cudnn.set_flags(True)
        with b.opt_einsum.flags(enabled=False):
            inside = b.opt_einsum.enabled
        seen[lib.__name__] = (previous[:2], restored[:2], inside, b.opt_einsum.enabled,
                              b.mkldnn.is_acl_available(),
                              b.cuda.is_flash_attention_available(),
                              b.cuda.fp16_bf16_reduction_math_sdp_allowed())
    assert seen["torchlike"] == seen["torch"]
