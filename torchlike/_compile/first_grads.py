"""A compiled training step's first call, traced as its second call will find it.

Before a step's first call its parameters have no `.grad`; after it they all have one.
The second call's guard therefore differs from the first's, and it traced the function
again (the transformer benchmark: 140 ms), although a step that sets its `.grad`s to None
(`optimizer.zero_grad()`) before `backward()` makes the same program either way.

So before the first trace, each parameter of the optimizers that would get a `.grad`
holds a placeholder: a tensor of the gradient's shape, dtype and device whose array is
only a shape (`jax.ShapeDtypeStruct`, never computed). The trace then runs under the
guard the second call has. When the program neither reads nor writes a placeholder but
replaces each (with a new `.grad` or None), and no result can be differentiated outside
the call (whose backward would run the program on every input again), that program is
the step's for both calls: the first call runs it (the placeholders are not among its
arguments) and installs the new `.grad`s in their slots, as every later call does.
Otherwise the placeholders are removed and the first call is traced again as its state
stands (a program that reads them, as a step that accumulates its gradients does, is
kept for the calls that have `.grad`s).

A function that tests in Python whether a `.grad` is None before it sets it to None sees
one on its first call: such a test is the only thing a placeholder changes.
"""
import jax

from .._tensor import Tensor


class Placeholder:
    """A placeholder `.grad` given to one parameter."""
    __slots__ = ("param", "grad")

    def __init__(self, param):
        self.param = param
        self.grad = Tensor._wrap(jax.ShapeDtypeStruct(tuple(param._shape), param._dtype.np),
                                 param._storage.device)
        param._grad = self.grad

    def undo(self):
        if self.param._grad is self.grad:
            self.param._grad = None


def fill(optimizers):
    """Gives every parameter of the optimizers that can get a gradient and has none a
    placeholder; returns them."""
    made = []
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                # (a parameter met twice has its placeholder by then)
                if p._requires_grad and p._grad is None and p._grad_fn is None and \
                        (p._dtype.is_floating_point or p._dtype.is_complex):
                    made.append(Placeholder(p))
    return made


def serves_without(placeholders, entry, storages):
    """True when `entry`'s program serves the state without the placeholders too: it
    does not read or write them, it replaces every one of them (a function that leaves a
    `.grad` alone would leave its placeholder), and its results are not differentiated
    outside."""
    if entry.eager or entry.split is not None or any(entry.out_live):
        return False
    mine = {id(h.grad._storage) for h in placeholders}
    touched = entry.reads.union(entry.changed)
    if any(id(storages[i]) in mine for i in touched):
        return False
    return all(id(h.param) in entry.grads_replaced for h in placeholders)


def undo(placeholders):
    for h in placeholders:
        h.undo()
