"""torch.func.rearrange: einops-style reordering of a tensor's axes by a pattern such as
"b h w c -> b (h w) c": one reshape to the elementary axes, one permute, one reshape.

Supported: names, parenthesized groups (sizes of a group's axes from the tensor or from
`axes_lengths`, one unknown per group), `...` on both sides, `1` and `()` for unit axes,
and a list or tuple of tensors (stacked along a new first axis).
"""
import math


class DimensionBindError(ValueError):
    """The error PyTorch's rearrange raises when group sizes cannot be inferred."""


def _parse(side):
    """A side of the pattern as a list of groups; a group is a list of names ('1' stands
    for nothing), '...' its own group."""
    groups, current = [], None
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            if current is not None:
                raise ValueError("Nested parenthesis are not allowed")
            current = []
        elif token == ")":
            if current is None:
                raise ValueError("Brackets are not balanced")
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append(["..."] if token == "..." else [token])
    if current is not None:
        raise ValueError("Brackets are not balanced")
    return groups


def _names(groups):
    return [n for g in groups for n in g if n not in ("1", "...")]


def rearrange(tensor, pattern, **axes_lengths):
    from . import stack
    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor))
    left_text, arrow, right_text = pattern.partition("->")
    if not arrow:
        raise ValueError("Pattern must contain '->'")
    left, right = _parse(left_text), _parse(right_text)
    for groups in (left, right):
        names = _names(groups)
        for n in names:
            if names.count(n) > 1:
                raise ValueError(f"Indexing expression contains duplicate dimension '{n}'")
    one_sided = set(_names(left)) ^ set(_names(right))
    if one_sided:
        raise ValueError("Identifiers only on one side of rearrange expression (should be on "
                         f"both): {one_sided}")
    shape = list(tensor.shape)
    has_ellipsis = ["..."] in left
    fixed = len(left) - has_ellipsis
    if (len(shape) < fixed) if has_ellipsis else (len(shape) != fixed):
        raise ValueError(f"Number of dimensions in pattern ({len(left)}) must be equal to the "
                         f"number of dimensions in the tensor ({len(shape)})")
    ellipsis = [f"...{i}" for i in range(len(shape) - fixed)]
    sizes = dict(axes_lengths)
    elementary, dims = [], iter(shape)
    for group in left:
        if group == ["..."]:
            for name in ellipsis:
                sizes[name] = next(dims)
                elementary.append(name)
            continue
        size = next(dims)
        names = [n for n in group if n != "1"]
        unknown = [n for n in names if n not in sizes]
        if len(unknown) > 1:
            raise DimensionBindError(
                f"cannot infer the sizes of two dimensions at once {unknown[0]} and {unknown[1]}")
        known = math.prod(sizes[n] for n in names if n in sizes)
        if unknown:
            if known == 0 or size % known:
                raise DimensionBindError(f"cannot divide axis of length {size} into chunks "
                                         f"of {known}")
            sizes[unknown[0]] = size // known
        elif known != size:
            raise DimensionBindError(f"axis of length {size} does not match the sizes "
                                     f"{[sizes[n] for n in names]} of its group")
        elementary += names
    order = [n for g in right for n in (ellipsis if g == ["..."] else g) if n != "1"]
    out_shape = []
    for group in right:
        if group == ["..."]:
            out_shape += [sizes[n] for n in ellipsis]
        else:
            out_shape.append(math.prod(sizes[n] for n in group if n != "1"))
    flat = tensor.reshape([sizes[n] for n in elementary])
    moved = flat.permute([elementary.index(n) for n in order])
    return moved.reshape(out_shape)
