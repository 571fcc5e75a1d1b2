"""torch.func.vmap on jax.vmap: PyTorch's in_dims/out_dims rules and errors,
chunk_size, and randomness ('error', 'same', 'different') through the generator's key."""
import os

import jax
import jax.numpy as jnp

from . import _jax_bridge as bridge
from . import _random
from ._func_autograd import joined
from ._func_tier import transformed
from ._tensor import Tensor
from .autograd.grad_mode import no_grad

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either "
                 "use the 'same' or 'different' randomness flags on vmap or perform the "
                 "randomness operation out of vmap")


def _rebuild(template, leaves):
    from .func import _rebuild
    return _rebuild(template, leaves)


def _check_randomness(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


def _is_leaf(x):
    return x is None or isinstance(x, Tensor)


class _Mismatch(Exception):
    pass


def _dims_per_leaf(dims, tree, out):
    """Append to `out` the dim of each leaf of `tree` (in jax's flattening order), `dims`
    being an int/None for a whole subtree or a container shaped like the tree."""
    if not isinstance(dims, (tuple, list, dict)):   # (its type is checked by the caller)
        out.extend([dims] * len(jax.tree_util.tree_leaves(tree, is_leaf=_is_leaf)))
        return
    if _is_leaf(tree):
        raise _Mismatch
    if isinstance(tree, dict):
        if not isinstance(dims, dict) or set(dims) != set(tree):
            raise _Mismatch
        for k in sorted(tree):
            _dims_per_leaf(dims[k], tree[k], out)
    elif isinstance(tree, (tuple, list)):
        if not isinstance(dims, (tuple, list)) or len(dims) != len(tree):
            raise _Mismatch
        for d, t in zip(dims, tree):
            _dims_per_leaf(d, t, out)
    else:
        raise _Mismatch


def _spec(tree, indent=0):
    """PyTorch's repr of a pytree's TreeSpec (for its error messages)."""
    if isinstance(tree, dict):
        kind, context, children = "dict", repr(list(tree)), list(tree.values())
    elif isinstance(tree, (tuple, list)):
        kind, context, children = type(tree).__name__, "None", list(tree)
    else:
        return "*"
    indent += 2
    inner = ""
    if children:
        inner = _spec(children[0], indent) + ("," if len(children) > 1 else "")
        inner += ",".join("\n" + " " * indent + _spec(c, indent) for c in children[1:])
    return f"TreeSpec({kind}, {context}, [{inner}])"


_dims_spec = _spec


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """torch.func.vmap / torch.vmap."""
    _check_randomness(randomness)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = getattr(func, "__name__", repr(func))

    def transform(*args, **kwargs):
        if not all(d is None or isinstance(d, int) for d in jax.tree_util.tree_leaves(
                out_dims, is_leaf=lambda d: d is None)):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an "
                             "int, None or a python collection of ints representing where in "
                             "the outputs the vmapped dimension should appear.")
        where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not (isinstance(in_dims, (int, tuple)) and not isinstance(in_dims, bool)):
            raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                             "inputs, or you are trying to vmap over a function with no "
                             "inputs. The latter is unsupported.")
        leaves, tree, dims = _leaves_and_dims(args, in_dims, where, "in")
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"{where}: Got in_dim={d} for an input but in_dim must be "
                                 "either an integer dimension or None.")
            if not isinstance(x, Tensor):
                raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of "
                                 f"type {type(x)}. We cannot vmap over non-Tensor arguments, "
                                 "please use None as the respective in_dim")
            n = x.dim()
            if not -n <= d < n:
                raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a "
                                 f"Tensor of dimensionality {n} so expected in_dim to satisfy "
                                 f"-{n} <= in_dim < {n}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) > 1:
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        batch = sizes[0]
        device = next(x.device for x in leaves if isinstance(x, Tensor))
        slots = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
        arrays = [leaves[i].jax() for i in slots]
        axes = [None if dims[i] is None else dims[i] % leaves[i].dim() for i in slots]
        mapped_axis = dict(zip(slots, axes))
        result = {}

        def per_sample(index, *xs):
            inner = list(leaves)
            for i, a in zip(slots, xs):
                inner[i] = bridge.wrap(a, device)
            previous = _random.vmap_key_hook
            _random.vmap_key_hook = _key_hook(randomness, previous, index)
            bridge.state.batching += 1
            bridge.state.vmap_levels.append((index._trace.tag, randomness))
            try:
                out = func(*_rebuild(args, iter(inner)), **kwargs)
            finally:
                _random.vmap_key_hook = previous
                bridge.state.batching -= 1
                bridge.state.vmap_levels.pop()
            # inputs the function wrote in place (a BatchNorm's running statistics in an
            # ensemble), written back below: mapped ones' new values are outputs too; one
            # not mapped over took values that do not vary, which stay concrete
            written = [i for i, a in zip(slots, xs) if inner[i]._raw() is not a]
            result["written"] = [i for i in written if mapped_axis[i] is not None]
            result["unmapped_written"] = [(i, inner[i]) for i in written
                                          if mapped_axis[i] is None]
            # an input returned as it is: the caller gets its own tensor back, as PyTorch's
            given = {id(inner[i]): i for i in slots}
            result["returned_inputs"] = {
                k: given[id(t)] for k, t in enumerate(
                    jax.tree_util.tree_leaves(out, is_leaf=_is_leaf)) if id(t) in given}
            return _outputs(out, out_dims, name, result, index) + tuple(
                inner[i]._raw() for i in result["written"])

        mapped = _torch_errors(jax.vmap(per_sample, in_axes=(0, *axes), out_axes=0))
        if chunk_size is None or chunk_size >= batch:
            outs = mapped(jnp.arange(batch), *arrays)
        else:
            pieces = []
            for start in range(0, batch, chunk_size):
                stop = min(start + chunk_size, batch)
                chunk = [a if ax is None else jax.lax.slice_in_dim(a, start, stop, axis=ax)
                         for a, ax in zip(arrays, axes)]
                pieces.append(mapped(jnp.arange(start, stop), *chunk))
            outs = [jnp.concatenate(p, axis=0) for p in zip(*pieces)]
        out_leaves = list(result["leaves"])
        for i, a, d in zip(result["slots"], outs, result["dims"]):
            j = result["returned_inputs"].get(i)
            if j is not None and d is not None and d % a.ndim == mapped_axis[j]:
                out_leaves[i] = leaves[j]
            else:
                out_leaves[i] = bridge.wrap(a[0] if d is None else jnp.moveaxis(a, 0, d),
                                            device)
        _write_back(leaves, mapped_axis, result["written"], outs[len(result["slots"]):],
                    result["unmapped_written"], device)
        return _rebuild(result["template"], iter(out_leaves))

    def eager(*args, **kwargs):
        # (its results join the autograd graph of tensors that require grad)
        return joined(lambda a: transform(*a, **kwargs), args)
    return transformed(func, eager, ("vmap", in_dims, out_dims, randomness, chunk_size))


def _write_back(leaves, axes, written, values, unmapped_written, device):
    """The values the vmapped function wrote into its inputs, written into the caller's
    tensors, as PyTorch's vmap writes through to them: `values` of the mapped inputs
    `written` (batch dim 0 moved back where it came from), and the (input, tensor)
    pairs `unmapped_written`."""
    with no_grad():
        for i, a in zip(written, values):
            leaves[i].copy_(bridge.wrap(jnp.moveaxis(a, 0, axes[i]), device))
        for i, tensor in unmapped_written:
            leaves[i].copy_(tensor)


_ITEM_ERROR = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap "
               "over calling .item() on a Tensor, please try to rewrite what you're doing with "
               "other operations. If error is occurring somewhere inside PyTorch internals, "
               "please file a bug report.")
_CONTROL_FLOW_ERROR = ("vmap: It looks like you're attempting to use a Tensor in some "
                       "data-dependent control flow. We don't support that yet, please file an "
                       "issue at https://github.com/pytorch/pytorch/issues .")


def _torch_errors(mapped):
    """JAX's errors for values a batched function reads on the host, as PyTorch's."""
    def call(*args):
        try:
            return mapped(*args)
        except jax.errors.TracerBoolConversionError:
            raise RuntimeError(_CONTROL_FLOW_ERROR) from None
        except jax.errors.ConcretizationTypeError as e:
            if _raised_in(e, ("__bool__", "is_nonzero")):    # `if tensor:` and the like
                raise RuntimeError(_CONTROL_FLOW_ERROR) from None
            if "item()" in str(e) or isinstance(e, jax.errors.TracerIntegerConversionError):
                raise RuntimeError(_ITEM_ERROR) from None
            raise
        except jax.errors.TracerArrayConversionError as e:
            message = _host_read_error(e)
            if message is None:
                raise
            raise RuntimeError(message) from None
    return call


_STORAGE_ERROR = "Cannot access data pointer of Tensor that doesn't have storage"
_DYNAMIC_SHAPE = ("vmap: We do not support batching operators that can output dynamic shape. "
                  "Attempted to vmap over aten::{}. Please file an issue at "
                  "https://github.com/pytorch/pytorch/issues if you need this feature.")
_MASKED_SELECT = ("vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We "
                  "cannot support this because for each batch this would return a differently "
                  "shaped Tensor. Please file an issue at "
                  "https://github.com/pytorch/pytorch/issues if you need this feature.")


def _host_read_error(error):
    """PyTorch's vmap message for a batched value a torchlike method read on the host,
    found by the method that read it; None for any other."""
    for name, message in (("tolist", _STORAGE_ERROR), ("numpy", _STORAGE_ERROR),
                          ("nonzero", _DYNAMIC_SHAPE.format("nonzero")),
                          ("unique", _DYNAMIC_SHAPE.format("_unique2")),
                          ("masked_select", _MASKED_SELECT)):
        if _raised_in(error, (name,), anywhere=True):
            return message
    return None


def _raised_in(error, function_names, anywhere=False):
    """Whether a frame of `error`'s traceback runs one of `function_names` (defined in
    _tensor.py, or `anywhere` in torchlike)."""
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name in function_names and (
                code.co_filename.endswith("_tensor.py") or
                anywhere and f"{os.sep}torchlike{os.sep}" in code.co_filename):
            return True
        tb = tb.tb_next
    return False


def _leaves_and_dims(values, dims_spec, where, kind):
    """The tensor leaves of `values`, their structure, and each leaf's batch dim from
    `dims_spec` (`kind` 'in' or 'out': in_dims for inputs, out_dims for outputs), with
    PyTorch's error when the two structures do not fit."""
    leaves, tree = jax.tree_util.tree_flatten(values, is_leaf=_is_leaf)
    dims = []
    try:
        _dims_per_leaf(dims_spec, values, dims)
    except _Mismatch:
        raise ValueError(f"{where}: {kind}_dims is not compatible with the structure of "
                         f"`{kind}puts`. {kind}_dims has structure {_dims_spec(dims_spec)} but "
                         f"{kind}puts has structure {_spec(values)}.") from None
    return leaves, tree, dims


def _outputs(out, out_dims, name, result, index):
    """The tensor outputs of one sample as arrays; structure and the rest in `result`."""
    where = f"vmap({name}, ..., out_dims={out_dims})(<inputs>)"
    if isinstance(out, Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]          # (PyTorch takes a 1-tuple for one output)
    leaves, tree, dims = _leaves_and_dims(out, out_dims, where, "out")
    slots, arrays, tensor_dims = [], [], []
    for i, (x, d) in enumerate(zip(leaves, dims)):
        if not isinstance(x, Tensor):
            if d is not None:
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(x)}. Did you mean to set out_dims= to None for "
                                 "output?")
            continue
        if d is None and _batched_like(x.jax(), index):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when "
                             "out_dim is None")
        if d is not None and not -(x.dim() + 1) <= d <= x.dim():
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-(x.dim() + 1)}, {x.dim()}], but got {d})")
        slots.append(i)
        arrays.append(x.jax())
        tensor_dims.append(d)
    result.update(leaves=leaves, template=out, slots=slots, dims=tensor_dims)
    return tuple(arrays)


def _batched_like(array, index):
    """Whether `array` varies over this vmap level's batch (index is its BatchTracer)."""
    trace = getattr(index, "_trace", None)
    return (isinstance(array, jax.core.Tracer) and getattr(array, "_trace", None) is trace
            and getattr(array, "batch_dim", None) is not None)


def _fold(index):
    def fold(key_data):
        key = jax.random.fold_in(jax.random.wrap_key_data(key_data), index)
        return jax.random.key_data(key)
    return fold


def _key_hook(randomness, previous, index):
    """What a random draw inside this vmap level does to the generator's key."""
    if randomness == "error":
        def refuse(key_data):
            raise RuntimeError(_RANDOM_ERROR)
        return refuse
    if randomness == "same":
        return previous
    fold = _fold(index)
    if previous is None:
        return fold
    return lambda key_data: fold(previous(key_data))
