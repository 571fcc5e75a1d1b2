"""Helpers shared by the layer functionals: registering an op, calling it with
keyword static parameters, argument normalisation, and reductions."""
import warnings

import jax.numpy as jnp
from jax import lax

from ..._ops.dispatch import apply
from ..._ops.registry import register_op

# f32 matmuls and convolutions on GPUs default to TF32-like precision in XLA; PyTorch
# computes them in full float32, so every contraction here asks for full precision.
HIGHEST = lax.Precision.HIGHEST


def nn_op(name, grad_fn=None, saves=()):
    """Register a JAX implementation under a private 'nn.' name in the op table."""
    return register_op("nn." + name, grad_fn=grad_fn, saves=saves)


def call(op, inputs, grad_fn=None, **params):
    """Run `op` on `inputs` with static keyword parameters (sorted: hashable, stable)."""
    return apply(op, tuple(inputs), tuple(sorted(params.items())), grad_fn)


class CheckedOnce:
    """A layer functional's argument checks, run once per signature (the shapes, dtypes
    and arguments they read) that passed them: every layer of every training step calls
    the functional, and its arguments repeat. The check's result (normalized arguments)
    is kept with the signature. A signature that is not hashable (a list argument) is
    checked every call. Bounded (cleared when full)."""

    def __init__(self, check, limit=1024):
        self.check, self.limit, self.passed = check, limit, {}

    def __call__(self, signature, *args):
        try:
            return self.passed[signature]
        except KeyError:
            pass
        except TypeError:                  # unhashable: nothing to remember it by
            return self.check(*args)
        result = self.check(*args)
        if len(self.passed) >= self.limit:
            self.passed.clear()
        self.passed[signature] = result
        return result


def ntuple(value, n, name="argument"):
    """An int or a sequence -> a tuple of n ints (PyTorch's _pair/_triple)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and n > 1:
            return tuple(int(value[0]) for _ in range(n))
        return tuple(int(v) for v in value)
    return (int(value),) * n


def reduction_of(size_average, reduce, reduction, stacklevel=4):
    """The legacy size_average/reduce arguments mapped to a reduction string (with
    PyTorch's deprecation warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", stacklevel=stacklevel)
    return result


def check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def reduce_array(loss, reduction):
    """Apply a loss reduction inside a JAX implementation."""
    if reduction == "mean":
        return jnp.mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


@nn_op("alias")
def _alias(x):
    return x


def renamed(tensor, grad_fn):
    """`tensor` behind one more (identity) node named `grad_fn`: for a secondary output
    of a fused op whose PyTorch counterpart ends in a different node."""
    return call(_alias, (tensor,), grad_fn)
