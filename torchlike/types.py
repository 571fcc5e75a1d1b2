"""torch.types: the type aliases PyTorch's signatures use in annotations. (torchlike has
no symbolic sizes: the Sym* types are the plain ones.)"""
import builtins
import os
from typing import IO, Optional, Sequence, Union

from ._device import device as _device
from ._dtype import dtype as _dtype
from ._layout import layout as _layout
from ._tensor import Tensor

_int, _float, _bool, _complex = builtins.int, builtins.float, builtins.bool, builtins.complex
_str, _bytes = builtins.str, builtins.bytes
SymInt, SymFloat, SymBool = _int, _float, _bool
IntLikeType, FloatLikeType, BoolLikeType = _int, _float, _bool
_size = Sequence[_int]
Number = Union[_int, _float, _bool]
_Number = (_int, _float, _bool)     # (isinstance's tuple, as PyTorch's)
_TensorOrTensors = Union[Tensor, Sequence[Tensor]]
_TensorOrOptionalTensors = Union[Optional[Tensor], Sequence[Optional[Tensor]]]
Device = Union[_device, _str, _int, None]
FileLike = Union[_str, os.PathLike, IO[_bytes]]
Storage = object

__all__ = ["Number", "Device", "FileLike", "Storage", "SymInt", "SymFloat", "SymBool",
           "IntLikeType", "FloatLikeType", "BoolLikeType", "Tensor", "_dtype", "_device",
           "_layout"]
