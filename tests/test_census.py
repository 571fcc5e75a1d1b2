"""Census of the public surface: for each namespace, the share of torch's public names
that torchlike also has, with a floor that fails the suite on a regression.

What counts as a public name of a namespace (computed from the installed torch 2.13):
- every name in `dir(namespace)` that does not start with an underscore,
- except names that torch itself deprecates (reading them raises a Deprecation- or
  FutureWarning, e.g. `torch.distributed.reduce_op`),
- except submodules (each namespace is counted on its own) and objects defined outside
  torch (stdlib and typing re-exports such as `torch.nn.functional.Callable`),
- except a top-level torch name re-exported from elsewhere (`torch.fft.Tensor`) and
  plain data of a namespace other than torch itself (`lr_scheduler.inf`, doc-string dicts),
- except TorchScript's IR classes re-exported from torch._C (`_TORCHSCRIPT_IR`),
- except the families in `_NOT_PUBLIC` below: quantization, backend-private kernels
  (cuDNN, MIOpen, MKL-DNN, FBGEMM, Vulkan, XNNPACK, NNPACK, MPS, XPU...), build flags, the
  deprecated typed-storage classes, and PyTorch's own internals that happen to lack an
  underscore (SyncBatchNorm's batch_norm_* kernels, `native_*` ops, `segment_reduce`).
  A user of a CPU/GPU PyTorch program never reaches these; each has a reason below.

The issue's target is >= 90% in every namespace (issue 12). Each FLOOR below is what this
branch reaches when it was written, so that a lost name fails the test; other helpers
add names in parallel (fft, special, distributions, sparse, optim, nn), and the lead
raises the floors after merging. Run with `-s` to see the coverage table.
"""
import functools
import pathlib
import re
import types
import warnings

import pytest

import torchlike

torch = pytest.importorskip("torch")

# name patterns outside a PyTorch program's reach, with the reason
_NOT_PUBLIC = [
    (r"quant|^q_|qint|quint|^dequantize|^int_repr$|qscheme|^per_(tensor|channel)_", "quantization"),
    (r"cudnn|miopen|mkldnn|fbgemm|vulkan|xnnpack|nnpack|^mps|_mps$|^xpu|^ipu|^hpu|mtia|maia|"
     r"^is_xla$|^is_meta$|^is_ort$", "backend-private kernels and device types"),
    (r"^USE_|^TYPE_CHECKING$|^PRIVATE_OPS$|cxx11_abi|^get_file_path$|"
     r"^prepare_multiprocessing_environment$|^profiler_allow_cudagraph", "build and loader flags"),
    (r"Storage$|^StorageBase$|^TypedStorage$|^UntypedStorage$|^storage_offset$|"
     r"^LoggerBase$|^classproperty$", "storage classes and loader helpers"),
    (r"^batch_norm_(backward|elemt|gather|stats|update)|^native_|^segment_reduce$|"
     r"^sym_|^Sym|^is_nonzero$|_copy$|^fused_|^slice_inverse$|^_?nested|jagged",
     "internal kernels and symbolic-shape helpers"),
    (r"^sparse_(bsr|bsc|csr|csc)|^(crow|ccol|col|row)_indices$|^to_sparse_(csr|csc|bsr|bsc)$"
     r"|^is_sparse_csr$|^values_copy$", "compressed sparse layouts (COO is counted)"),
    (r"_ipu_|_xla_|^ScalingType$|^SwizzleType$", "autocast state of IPU/XLA devices, FP8 GEMM enums"),
    (r"^u?int[1-7]$|^bits(16|1x8|2x4|4x2|8)$", "sub-byte dtypes (no PyTorch op computes on them)"),
    (r"^Profiler|^DeviceType$|kineto", "profiler types (torch.profiler is its own namespace)"),
    (r"DataPipe|datapipe|^DataChunk$|validation|^non_deterministic$",
     "DataPipes, deprecated by PyTorch in favour of torchdata"),
    (r"^(ContextProp|PropModule|(Cudnn|Mkldnn|OptEinsum)Module|cuFFTPlanCache\w*)$",
     "backends' own attribute "
                                                                     "machinery"),
    (r"^BroadcastingList|^(common|factory_common)_(args|notes)$", "TorchScript typing and "
                                                                 "docstring helpers"),
]

# TorchScript's IR and compiler classes, re-exported at the top level from torch._C: a
# Python program meets them only through torch.jit internals.
_TORCHSCRIPT_IR = frozenset("""
    AliasDb Argument ArgumentSpec Block CallStack Capsule Code CompilationUnit
    CompleteArgumentSpec ConcreteModuleType ConcreteModuleTypeBuilder DeepCopyMemoTable
    DeserializationStorageContext ErrorReport ExecutionPlan FileCheck FunctionSchema Gradient
    Graph GraphExecutorState IODescriptor InferredType JITException LiteScriptModule
    LockingLogger Node NoopLogger OperatorInfo PyTorchFileReader PyTorchFileWriter ScriptClass
    ScriptClassFunction ScriptDict ScriptDictIterator ScriptDictKeyIterator ScriptFunction
    ScriptList ScriptListIterator ScriptMethod ScriptModule ScriptModuleSerializer ScriptObject
    ScriptObjectProperty SerializationStorageContext StaticModule TracingState Use Value
    BenchmarkConfig BenchmarkExecutionStats ThroughputBenchmark AggregationType AVG SUM Tag
    DispatchKey DispatchKeySet ExcludeDispatchKeyGuard BufferDict ModuleDict ParameterDict
    import_ir_module import_ir_module_from_buffer parse_ir parse_schema parse_type_comment
    merge_type_from_type_comment unify_type_list
""".split())
_NOT_PUBLIC_RE = [(re.compile(p), why) for p, why in _NOT_PUBLIC]


def _defined_outside_torch(obj):
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or isinstance(obj, (int, float, bool, str)):
        return False
    return not (module.startswith("torch") or module == "builtins" and callable(obj)
                and hasattr(obj, "__self__"))


def _is_public(namespace, dotted, name):
    try:
        obj = getattr(namespace, name)
    except Exception:  # noqa: BLE001 - a lazily failing attribute is not a usable name
        return False
    if isinstance(obj, types.ModuleType) or _defined_outside_torch(obj):
        return False
    if namespace is torch and (name in _TORCHSCRIPT_IR or name.endswith("Type")):
        return False        # TorchScript IR classes (AnyType, TensorType ...), see above
    home = getattr(obj, "__module__", None) or ""
    if dotted and obj is getattr(torch, name, None) and not home.startswith("torch." + dotted):
        return False        # a re-export of a top-level name (fft.Tensor), counted there
    if dotted and isinstance(obj, (int, float, str, dict, tuple, set, frozenset)):
        return False        # module-level data of a namespace (lr_scheduler.inf), not API
    return not any(p.search(name) for p, _ in _NOT_PUBLIC_RE)


def public_names(namespace, dotted=""):
    inner = getattr(namespace, "m", None)
    if isinstance(inner, types.ModuleType) and type(namespace) is not types.ModuleType:
        namespace = inner       # torch.backends.cudnn & co. wrap their module in a PropModule
    names = set()
    for name in dir(namespace):
        if name.startswith("_"):
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            keep = _is_public(namespace, dotted, name)
        # torch warns when a deprecated name (or its object) is read: not counted
        if keep and not any(issubclass(c.category, (DeprecationWarning, FutureWarning))
                            for c in caught):
            names.add(name)
    return names


def _resolve(root, dotted):
    obj = root
    for part in dotted.split(".") if dotted else ():
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


@functools.lru_cache(maxsize=None)      # bounded by the namespaces in FLOORS
def coverage(dotted):
    """(have, total, missing names) of torch.<dotted> in torchlike.<dotted>."""
    theirs = public_names(_resolve(torch, dotted), dotted)
    ours_ns = _resolve(torchlike, dotted)
    missing = sorted(n for n in theirs if ours_ns is None or not hasattr(ours_ns, n))
    return len(theirs) - len(missing), len(theirs), missing


# namespace -> floor (fraction of torch's public names this branch has)
FLOORS = {
    "": 0.98,                        # 663/676 when written
    "Tensor": 0.94,                  # 536/568 when written
    "nn": 0.97,                      # 164/169 when written
    "nn.functional": 0.92,           # 105/114 when written
    "nn.init": 1.00,                 # 26/26 when written
    "nn.utils": 1.00,                # 18/18 when written
    "optim": 1.00,                   # 17/17 when written
    "optim.lr_scheduler": 1.00,      # 17/17 when written
    "linalg": 1.00,                  # 42/42 when written
    "fft": 1.00,                     # 22/22 when written
    "special": 1.00,                 # 56/56 when written
    "autograd": 1.00,                # 22/22 when written
    "utils.data": 1.00,              # 19/19 when written
    "cuda": 1.00,                    # 99/99 when written
    "amp": 1.00,                     # 5/5 when written
    "backends.cuda": 1.00,           # 25/25 when written
    "backends.cudnn": 1.00,          # 5/5 when written
    "backends.mps": 1.00,            # 6/6 when written
    "backends.opt_einsum": 1.00,     # 4/4 when written
    "backends.mkldnn": 1.00,         # 5/5 when written
    "jit": 1.00,                     # 45/45 when written
    "distributions": 0.49,           # 33/67 when written
    "accelerator": 0.95,             # 22/23 when written
    "func": 1.00,                    # 15/15 when written
    "sparse": 0.13,                  # 3/23 when written
    "testing": 1.00,                 # 3/3 when written
    "distributed": 0.81,             # 81/99 when written
    "nn.utils.rnn": 0.72,            # 8/11 when written
    "nn.parallel": 0.37,             # 3/8 when written
    "utils.checkpoint": 0.85,        # 18/21 when written
    "nn.attention": 0.20,            # 2/10 when written
    "profiler": 0.45,                # 5/11 when written
    "autograd.profiler": 0.33,       # 4/12 when written
    "library": 0.23,                 # 5/21 when written
    "random": 0.85,                  # 6/7 when written
    "utils._pytree": 0.37,           # 21/56 when written
}
ISSUE_TARGET = 0.90


@pytest.mark.parametrize("namespace", sorted(FLOORS))
def test_namespace_coverage_is_above_its_floor(namespace):
    have, total, missing = coverage(namespace)
    share = have / total if total else 1.0
    assert share >= FLOORS[namespace], (
        f"torch.{namespace or '*'}: {have}/{total} = {share:.1%} is under the floor "
        f"{FLOORS[namespace]:.0%}; missing: {missing}")


def test_print_coverage_table(capsys):
    """The table (visible with -s): namespace, names present, share, issue target."""
    rows = []
    for namespace in sorted(FLOORS):
        have, total, _ = coverage(namespace)
        rows.append(f"torch.{namespace or '*':<22} {have:>4}/{total:<4} "
                    f"{have / max(total, 1):6.1%}  (target {ISSUE_TARGET:.0%})")
    with capsys.disabled():
        print("\n" + "\n".join(rows))
    assert len(rows) == len(FLOORS)


def test_public_name_rules_exclude_what_they_say():
    """The rules themselves: submodules, stdlib re-exports and quantization are out,
    ordinary functions and classes are in."""
    names = public_names(torch)
    assert {"add", "Tensor", "float32", "no_grad", "autocast", "finfo"} <= names
    assert not {"nn", "os", "quantize_per_tensor", "TYPE_CHECKING", "USE_GLOBAL_DEPS"} & names
    assert "Callable" not in public_names(torch.nn.functional)


# torch.* references as they appear in typical training programs (pytorch/examples' mnist,
# imagenet, dcgan, word_language_model, vae; nanoGPT / minGPT / makemore-style models),
# written down by hand from those programs. The issue's target: >= 98% resolve.
TRAINING_CODE_REFERENCES = """
    manual_seed cuda.manual_seed cuda.manual_seed_all cuda.is_available device
    backends.mps.is_available backends.cudnn.benchmark backends.cudnn.deterministic
    backends.cuda.matmul.allow_tf32 backends.cudnn.allow_tf32 set_float32_matmul_precision
    cuda.device_count cuda.set_device cuda.current_device cuda.get_device_name
    cuda.synchronize cuda.empty_cache cuda.max_memory_allocated cuda.memory_allocated
    cuda.reset_peak_memory_stats cuda.is_bf16_supported cuda.amp.GradScaler
    cuda.amp.autocast amp.GradScaler amp.autocast autocast float16 bfloat16 float32 float64
    int64 long float half tensor zeros ones empty zeros_like ones_like full arange randn
    rand randint randperm multinomial cat stack split chunk where clamp exp log sqrt tanh
    sigmoid softmax argmax topk sort cumsum tril triu ones_like from_numpy save load no_grad
    inference_mode enable_grad set_grad_enabled is_tensor numel Tensor nn.Module nn.Linear
    nn.Conv2d nn.ConvTranspose2d nn.BatchNorm2d nn.BatchNorm1d nn.LayerNorm nn.Embedding
    nn.Dropout nn.ReLU nn.GELU nn.LeakyReLU nn.Tanh nn.Sigmoid nn.Sequential nn.ModuleList
    nn.ModuleDict nn.Parameter nn.CrossEntropyLoss nn.MSELoss nn.BCELoss nn.BCEWithLogitsLoss
    nn.NLLLoss nn.LSTM nn.GRU nn.MaxPool2d nn.AdaptiveAvgPool2d nn.Flatten nn.Identity
    nn.MultiheadAttention nn.TransformerEncoder nn.TransformerEncoderLayer nn.init.normal_
    nn.init.zeros_ nn.init.xavier_uniform_ nn.init.kaiming_normal_ nn.init.constant_
    nn.functional.relu nn.functional.gelu nn.functional.softmax nn.functional.log_softmax
    nn.functional.cross_entropy nn.functional.nll_loss nn.functional.mse_loss
    nn.functional.dropout nn.functional.scaled_dot_product_attention nn.functional.pad
    nn.functional.one_hot nn.functional.interpolate nn.functional.binary_cross_entropy
    nn.functional.layer_norm nn.functional.embedding nn.utils.clip_grad_norm_
    nn.utils.parameters_to_vector nn.utils.rnn.pad_sequence nn.parallel.DistributedDataParallel
    optim.SGD optim.Adam optim.AdamW optim.lr_scheduler.StepLR optim.lr_scheduler.CosineAnnealingLR
    optim.lr_scheduler.LambdaLR optim.lr_scheduler.OneCycleLR optim.lr_scheduler.ReduceLROnPlateau
    utils.data.DataLoader utils.data.Dataset utils.data.TensorDataset utils.data.random_split
    utils.data.DistributedSampler utils.data.Subset utils.checkpoint.checkpoint
    distributed.init_process_group distributed.get_rank distributed.get_world_size
    distributed.barrier distributed.destroy_process_group distributed.all_reduce
    compile jit.script jit.trace onnx.export finfo iinfo inf pi set_num_threads
    get_num_threads use_deterministic_algorithms Generator multiprocessing
    autograd.grad autograd.Function autograd.backward linalg.norm linalg.vector_norm
    fft.rfft special.erf distributions.Categorical distributions.Normal
""".split()


def test_training_code_references_resolve():
    missing = [name for name in TRAINING_CODE_REFERENCES if _resolve(torchlike, name) is None]
    assert all(_resolve(torch, name) is not None for name in TRAINING_CODE_REFERENCES)
    share = 1 - len(missing) / len(TRAINING_CODE_REFERENCES)
    # issue target 98%; the floor is what this branch reaches (see the module docstring)
    assert share >= TRAINING_REFERENCES_FLOOR, (share, missing)


TRAINING_REFERENCES_FLOOR = 1.00        # 175/175 when written


# -- the coverage table in docs/supported_ops.md ------------------------------------------
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "supported_ops.md"
DOCS_BEGIN = "<!-- census: generated by python tests/test_census.py --docs -->"
DOCS_END = "<!-- census: end -->"
OPDB_HEADING = "## PyTorch op_db: skipped and expected failures"   # tests/test_opdb.py's part

# Names that exist in torchlike and fail on purpose, with what they raise and why.
FAILS_ON_PURPOSE = {
    "": {"lstsq solve eig symeig matrix_rank": "RuntimeError: removed from PyTorch in 1.9 "
                                               "(PyTorch's own message)",
         "complex32 float4_e2m1fn_x2 bit": "TypeError when a tensor is made: JAX has no "
                                           "complex half, packed float4 or 1-bit type"},
    "jit": {"save load": "RuntimeError: no TorchScript archives (use torch.save/load)"},
    "optim": {"SparseAdam": "NotImplementedError in step(): no sparse gradients"},
}


def render_docs_section():
    lines = [DOCS_BEGIN, "## Namespace coverage (PyTorch's public names)", "",
             "Counted by `tests/test_census.py` against the installed PyTorch 2.13 (its "
             "docstring says which names count).",
             "Regenerate with `python tests/test_census.py --docs` (after "
             "`python -m torchlike._ops.docs` and `python tests/test_opdb.py --docs`, which",
             "rewrite the rest of this page).", "",
             "| namespace | present | share | missing |", "| --- | --- | --- | --- |"]
    for namespace in sorted(FLOORS):
        have, total, missing = coverage(namespace)
        shown = ", ".join(f"`{n}`" for n in missing) or "none"
        lines.append(f"| `torch.{namespace or '*'}` | {have}/{total} | "
                     f"{have / max(total, 1):.1%} | {shown} |")
    lines += ["", "Names that exist but fail on purpose:", ""]
    for namespace, entries in sorted(FAILS_ON_PURPOSE.items()):
        for names, why in entries.items():
            shown = ", ".join(f"`torch.{namespace + '.' if namespace else ''}{n}`"
                              for n in names.split())
            lines.append(f"- {shown}: {why}")
    return "\n".join(lines + ["", DOCS_END]) + "\n\n"


def _page_without_section(text):
    if DOCS_BEGIN not in text:
        return text
    return text[:text.index(DOCS_BEGIN)] + text[text.index(DOCS_END) + len(DOCS_END) + 2:]


def write_docs_section():
    """Put the section just before the op_db part (or at the end), replacing an old one."""
    text = _page_without_section(DOCS.read_text())
    at = text.index(OPDB_HEADING) if OPDB_HEADING in text else len(text)
    DOCS.write_text(text[:at] + render_docs_section() + text[at:])


def test_docs_section_is_current():
    text = DOCS.read_text()
    assert DOCS_BEGIN in text, f"{DOCS} lacks the census section: python {__file__} --docs"
    section = text[text.index(DOCS_BEGIN):text.index(DOCS_END) + len(DOCS_END) + 2]
    assert section == render_docs_section(), \
        f"the census section of {DOCS} is stale: python {__file__} --docs"


def test_names_that_fail_on_purpose_exist():
    for namespace, entries in FAILS_ON_PURPOSE.items():
        for names in entries:
            for name in names.split():
                assert _resolve(torchlike, f"{namespace}.{name}" if namespace else name) \
                    is not None, name


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--docs"]:
        write_docs_section()
