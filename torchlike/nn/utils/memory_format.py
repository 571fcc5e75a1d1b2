"""convert_conv{2,3}d_weight_memory_format: re-lay a conv's weight in a memory format."""
from ...autograd.grad_mode import no_grad


def _convert(module, memory_format, conv_types):
    if isinstance(module, conv_types):
        with no_grad():
            module.weight.data = module.weight.detach().clone().contiguous(
                memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, conv_types)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    from ..modules.conv import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    from ..modules.conv import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
