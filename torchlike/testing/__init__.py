"""torch.testing: assert_close and make_tensor, with PyTorch's rules and messages.
The OpInfo sample tables of the op-library tests live in the private `_opinfo` package."""
from ._comparison import assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
