"""torch.FloatTensor, LongTensor ...: PyTorch's legacy tensor types. Each is a callable
class that builds a tensor of its dtype (legacy constructor rules) and answers isinstance
for CPU tensors of that dtype; the tensors themselves are plain Tensors, as in PyTorch."""
from . import _dtype as dt
from ._ops.tensor_extra import legacy_new
from ._tensor import Tensor

_NAMES = {"FloatTensor": dt.float32, "DoubleTensor": dt.float64, "HalfTensor": dt.float16,
          "BFloat16Tensor": dt.bfloat16, "ByteTensor": dt.uint8, "CharTensor": dt.int8,
          "ShortTensor": dt.int16, "IntTensor": dt.int32, "LongTensor": dt.int64,
          "BoolTensor": dt.bool}


class _LegacyTensorType(type):
    def __instancecheck__(cls, instance):
        return (isinstance(instance, Tensor) and instance.dtype is cls.dtype
                and instance.device.type == "cpu")

    def __call__(cls, *args, **kwargs):
        return legacy_new(cls.dtype, None, args, dict(kwargs), what=cls.__name__ + "()")

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                        "__module__": "torchlike"})


LEGACY_TYPES = {name: _legacy_type(name, dtype) for name, dtype in _NAMES.items()}
