"""torch.onnx: ONNX export is not available in torchlike."""


class OnnxExporterError(RuntimeError):
    pass


def export(*args, **kwargs):
    raise OnnxExporterError(
        "torchlike.onnx.export: ONNX export is not supported by torchlike (there is no "
        "TorchScript or FX graph to export). Instead, save the weights with torchlike.save, "
        "or lower the function with jax.jit(...).lower(...) (torchlike.func / "
        "torchlike.compile) and convert the StableHLO with jax2tf/jax2onnx tooling.")


def is_in_onnx_export():
    return False
