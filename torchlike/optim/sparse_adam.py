"""SparseAdam exists by name: it updates only the rows a sparse gradient touches, and
torchlike has no sparse gradients (nn.Embedding(sparse=True) gives dense ones)."""
from .adam import check_betas
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        check_betas(lr, eps, betas, 0)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        raise NotImplementedError("torchlike: SparseAdam needs sparse gradients, which "
                                  "torchlike does not produce; use torchlike.optim.Adam "
                                  "(the same update on dense gradients)")
