"""Bad input raises what torch raises (same exception class, same message), and a failed
operation leaves its tensors exactly as they were (values and _version)."""
import pytest

import torchlike
from helpers import assert_raises_same, torch

pytestmark = pytest.mark.usefixtures("oracle")


def _x(lib):
    return lib.arange(6.0).view(2, 3)


ERRORS = {
    # shapes
    "add_shapes": lambda lib: _x(lib) + lib.ones(2),
    "mul_shapes_3d": lambda lib: lib.ones(2, 3, 4) * lib.ones(3, 3),
    "view_invalid": lambda lib: lib.arange(6.0).view(4),
    "view_invalid_2d": lambda lib: _x(lib).view(4, -1),
    "reshape_invalid": lambda lib: _x(lib).reshape(5, 2),
    "view_stride": lambda lib: _x(lib).t().view(-1),
    "expand_bad": lambda lib: _x(lib).expand(3, 3),
    "matmul_shapes": lambda lib: _x(lib) @ _x(lib),
    "matmul_1d": lambda lib: lib.ones(3) @ lib.ones(4),
    "cat_dims": lambda lib: lib.cat([_x(lib), lib.ones(3)]),
    "stack_shapes": lambda lib: lib.stack([_x(lib), _x(lib).t()]),
    "stack_not_a_tensor": lambda lib: lib.stack([_x(lib), 3]),
    "stack_numpy_element": lambda lib: lib.stack([_x(lib).numpy()]),
    "cat_none_element": lambda lib: lib.cat((_x(lib), None)),
    "where_shapes": lambda lib: lib.where(lib.ones(4) > 0, _x(lib), 0.0),
    "copy_shapes": lambda lib: _x(lib).copy_(lib.ones(3, 2)),
    # dims
    "sum_dim": lambda lib: _x(lib).sum(2),
    "sum_dim_neg": lambda lib: _x(lib).sum(-3),
    "transpose_dim": lambda lib: _x(lib).transpose(0, 5),
    "unsqueeze_dim": lambda lib: _x(lib).unsqueeze(-4),
    "squeeze_dim": lambda lib: _x(lib).squeeze(3),
    "size_dim": lambda lib: _x(lib).size(2),
    "select_dim": lambda lib: _x(lib).select(2, 0),
    "argmax_dim": lambda lib: _x(lib).argmax(3),
    "cat_dim": lambda lib: lib.cat([_x(lib), _x(lib)], dim=2),
    "flatten_dims": lambda lib: _x(lib).flatten(2),
    "softmax_like_dim": lambda lib: _x(lib).max(dim=-3),
    "permute_len": lambda lib: _x(lib).permute(0, 1, 2),
    # indices
    "index_int": lambda lib: _x(lib)[2],
    "index_neg": lambda lib: _x(lib)[-3],
    "index_2nd": lambda lib: _x(lib)[0, 3],
    "index_list": lambda lib: _x(lib)[[0, 2]],
    "index_tensor": lambda lib: _x(lib)[lib.tensor([5])],
    "index_float": lambda lib: _x(lib)[lib.tensor([0.0])],
    "index_too_many": lambda lib: _x(lib)[0, 0, 0],
    "index_mask_shape": lambda lib: _x(lib)[lib.tensor([True, False, True])],
    "index_0d": lambda lib: lib.tensor(1.0)[0],
    "narrow_oob": lambda lib: _x(lib).narrow(1, 2, 2),
    "item_many": lambda lib: _x(lib).item(),
    # dtypes
    "requires_grad_int": lambda lib: lib.tensor([1, 2], requires_grad=True),
    "requires_grad_int_method": lambda lib: lib.tensor([1, 2]).requires_grad_(),
    "requires_grad_int_attr": lambda lib: setattr(lib.tensor([1]), "requires_grad", True),
    "mean_int": lambda lib: lib.tensor([1, 2]).mean(),
    "bool_neg": lambda lib: -lib.tensor([True]),
    "bool_sub_bool": lambda lib: lib.tensor([True]) - lib.tensor([False]),
    "bitwise_float": lambda lib: lib.tensor([1.5]) & lib.tensor([1.0]),
    "invert_float": lambda lib: ~lib.tensor([1.5]) if False else lib.tensor([1.5]).bitwise_not(),
    "int_neg_pow": lambda lib: lib.tensor([2]) ** -1,
    "where_cond_float": lambda lib: lib.where(_x(lib), _x(lib), _x(lib)),
    "inplace_cast": lambda lib: lib.tensor([1, 2]).add_(1.5),
    "inplace_cast_bool": lambda lib: lib.tensor([True]).mul_(2),
    "inplace_cast_complex": lambda lib: lib.tensor([1.0]).add_(1j),
    "set_default_int": lambda lib: lib.set_default_dtype(lib.int32),
    "uniform_int": lambda lib: lib.tensor([1, 2]).uniform_(),
    "numpy_grad": lambda lib: lib.ones(2, requires_grad=True).numpy(),
    "numpy_bf16": lambda lib: lib.ones(2, dtype=lib.bfloat16).numpy(),
    # autograd
    "leaf_inplace": lambda lib: lib.ones(2, requires_grad=True).add_(1),
    "view_of_leaf_inplace": lambda lib: lib.ones(2, requires_grad=True)[0].mul_(2),
    "backward_nonscalar": lambda lib: (lib.ones(2, requires_grad=True) * 2).backward(),
    "backward_no_grad": lambda lib: lib.ones(2).sum().backward(),
    "nonleaf_requires_grad_false": lambda lib: setattr(lib.ones(2, requires_grad=True) * 2,
                                                       "requires_grad", False),
    "retain_grad_no_grad": lambda lib: lib.ones(2).retain_grad(),
    "register_hook_no_grad": lambda lib: lib.ones(2).register_hook(lambda g: g),
    "detach_view_inplace": lambda lib: (lib.ones(2, requires_grad=True) * 1)[0].detach_(),
    # python protocols
    "bool_many": lambda lib: bool(_x(lib)),
    "bool_empty": lambda lib: bool(lib.tensor([])),
    "float_many": lambda lib: float(_x(lib)),
    "int_complex": lambda lib: int(lib.tensor(1 + 1j)),
    "len_0d": lambda lib: len(lib.tensor(1.0)),
    "iter_0d": lambda lib: iter(lib.tensor(1.0)),
    "index_float_tensor": lambda lib: [1, 2][lib.tensor(0.0)],
    "index_many": lambda lib: [1, 2][lib.tensor([0, 1])],
    # factories
    "tensor_ragged": lambda lib: lib.tensor([[1], [1, 2]]),
    "zeros_negative": lambda lib: lib.zeros(-1),
    "arange_sign": lambda lib: lib.arange(0, 5, -1),
    "full_overflow": lambda lib: lib.full((2,), 300, dtype=lib.uint8),
    "randint_range": lambda lib: lib.randint(3, 3, (2,)),
    "device_bad": lambda lib: lib.zeros(1, device="gpu"),
    "to_bad": lambda lib: lib.ones(1).to("nope"),
    "type_bad": lambda lib: lib.ones(1).type("torch.NopeTensor"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_same_error(name):
    assert_raises_same(ERRORS[name])


# -- a failing op changes nothing ------------------------------------------------------
FAILING_WRITES = {
    "add_shapes": lambda lib, x: x.add_(lib.ones(5)),
    "mul_shapes": lambda lib, x: x.mul_(lib.ones(3, 1)),
    "copy_shapes": lambda lib, x: x.copy_(lib.ones(2, 2)),
    "cast": lambda lib, x: x.int().add_(1.5),
    "cast_view": lambda lib, x: x.add_(1j),
    "setitem_oob": lambda lib, x: x.__setitem__(5, 1.0),
    "setitem_adv_oob": lambda lib, x: x.__setitem__([0, 4], 1.0),
    "setitem_shape": lambda lib, x: x.__setitem__(slice(None), lib.ones(2)),
    "setitem_dtype": lambda lib, x: x.__setitem__([0], lib.ones(1, dtype=lib.float64)),
    "setitem_overflow": lambda lib, x: x.__setitem__(0, 1e300),
    "setitem_str": lambda lib, x: x.__setitem__(0, "a"),
    "fill_dims": lambda lib, x: x.fill_(lib.ones(2)),
    "clamp_none": lambda lib, x: x.clamp_(),
    "uniform_bounds": lambda lib, x: x.uniform_(1, 0),
    "overlap": lambda lib, x: x[:1].expand(3).add_(1),
    "leaf_grad": lambda lib, x: x.requires_grad_().add_(1),
}


@pytest.mark.parametrize("name", list(FAILING_WRITES))
@pytest.mark.parametrize("target", ["base", "view"])
def test_failed_write_changes_nothing(name, target):
    def run(lib):
        base = lib.tensor([1.0, 2.0, 3.0, 4.0])
        x = base if target == "base" else base[1:]
        other = base.view(2, 2)
        try:
            FAILING_WRITES[name](lib, x)
        finally:
            state.append((base.tolist(), base._version, x._version, other._version))
    state = []
    assert_raises_same(run)
    untouched = ([1.0, 2.0, 3.0, 4.0], 0, 0, 0)
    assert state[1] == untouched, state      # torchlike writes nothing when it fails
    if not (name == "setitem_adv_oob" and target == "view"):
        # (torch itself writes the in-bounds elements of a view before raising there)
        assert state[0] == untouched, state


def test_errors_do_not_break_later_ops():
    x = torchlike.ones(3)
    for bad in (lambda: x.add_(torchlike.ones(2)), lambda: x.view(2), lambda: x[5]):
        with pytest.raises((RuntimeError, IndexError)):
            bad()
    x.add_(1)
    assert x.tolist() == [2.0, 2.0, 2.0] and x._version == 1
