"""torch.testing: assert_close and make_tensor, with PyTorch's rules and messages.
The OpInfo sample tables of the op-library tests live in the private `_opinfo` package."""
from ._comparison import assert_close
from ._creation import make_tensor
from ._deprecated import assert_allclose   # deprecated by PyTorch 1.12, warns

__all__ = ["assert_close", "make_tensor"]
