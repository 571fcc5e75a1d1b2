"""The meta device: tensors with a shape and a dtype and no elements.

PyTorch code uses it to build a model without memory for its weights (`with
torch.device('meta'):`, then `to_empty` and a loaded state dict) and as a stand-in whose
parameters are replaced (the model-ensembling recipe's `copy.deepcopy(m).to('meta')` with
`functional_call`). A meta tensor's storage holds a `jax.ShapeDtypeStruct` instead of an
array; an op on meta tensors computes only its outputs' shapes and dtypes (the same cached
`jax.eval_shape` that pending ops use: _lazy.output_avals); reading a value raises
PyTorch's errors.
"""
import jax

# PyTorch's messages
NO_DATA = "Cannot copy out of meta tensor; no data!"
NO_ITEM = "Tensor.item() cannot be called on meta tensors"
TO_EMPTY_HINT = (" Please use torch.nn.Module.to_empty() instead of torch.nn.Module.to() "
                 "when moving module from meta to a different device.")


def meta_array(shape, dtype):
    return jax.ShapeDtypeStruct(tuple(shape), dtype)


def is_meta_array(a):
    return type(a) is jax.ShapeDtypeStruct


def outputs(op, params, arrays):
    """What op(arrays) would return, as meta arrays (a tuple for an op with several)."""
    from ._lazy import output_avals      # (_lazy imports _device, which imports this)
    multi, avals = output_avals(op, params, arrays)
    outs = tuple([meta_array(shape, dtype) for shape, dtype in avals])
    return outs if multi else outs[0]
