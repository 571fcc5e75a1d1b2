"""torch.nn.utils.stateless: functional_call (PyTorch's older home of torch.func's)."""
from ...func import functional_call

__all__ = ["functional_call"]
