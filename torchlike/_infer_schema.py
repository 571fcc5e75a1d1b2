"""torch.library.infer_schema: an operator's schema string from a function's annotations,
rendered as PyTorch 2.13 renders it (types, defaults, aliasing of mutated arguments)."""
import collections.abc
import inspect
import typing

from ._device import device
from ._dtype import dtype
from ._tensor import Tensor
from .types import Number


def _sequences(element):
    return (typing.Sequence[element], typing.List[element],
            collections.abc.Sequence[element], list[element])


def _param_types():
    """annotation -> schema type: each base type, optional, and (for some) lists of it,
    lists of optionals, optional lists."""
    table = {}
    for base, name, lists, optional_items, optional_list in (
            (Tensor, "Tensor", True, True, False), (int, "SymInt", True, False, True),
            (float, "float", True, False, True), (bool, "bool", True, False, True),
            (str, "str", False, False, False), (Number, "Scalar", True, False, False),
            (dtype, "ScalarType", False, False, False), (device, "Device", False, False, False)):
        table[base] = name
        table[typing.Optional[base]] = name + "?"
        if lists:
            table.update((s, name + "[]") for s in _sequences(base))
        if optional_items:
            table.update((s, name + "?[]") for s in _sequences(typing.Optional[base]))
        if optional_list:
            table.update((typing.Optional[s], name + "[]?") for s in _sequences(base))
    return table


PARAM_TYPES = _param_types()
RETURN_TYPES = {Tensor: "Tensor", typing.List[Tensor]: "Tensor[]", list[Tensor]: "Tensor[]",
                int: "SymInt", float: "float", bool: "bool", Number: "Scalar"}


def infer_schema(prototype_function, /, *, mutates_args, op_name=None, tags=()):
    signature = inspect.signature(prototype_function)

    def error(what):
        shown = str(signature).replace("torchlike._tensor.Tensor", "torch.Tensor").replace(
            "torchlike.", "torch.")
        raise ValueError(f"infer_schema(func): {what} Got func with signature {shown})")

    unknown = type(mutates_args) is str
    if unknown and mutates_args != "unknown":
        raise ValueError("mutates_args must either be a sequence of the names of the "
                         "arguments that are mutated or the string 'unknown'. ")
    if not unknown:
        mutates_args = tuple(mutates_args)
    params, seen, keyword_only = [], set(), False
    for index, (name, p) in enumerate(signature.parameters.items()):
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            error("We do not support positional-only args, varargs, or varkwargs.")
        if p.kind == p.KEYWORD_ONLY and not keyword_only:
            params.append("*")
            keyword_only = True
        if p.annotation is inspect.Parameter.empty:
            error(f"Parameter {name} must have a type annotation.")
        kind = PARAM_TYPES.get(p.annotation)
        if kind is None:
            error(f"Parameter {name} has unsupported type {p.annotation}. The valid types "
                  f"are: {PARAM_TYPES.keys()}.")
        if unknown and kind.startswith("Tensor") or not unknown and name in mutates_args:
            if not kind.startswith("Tensor"):
                error(f"Parameter {name} is in mutable_args but only Tensors or collections "
                      "of Tensors can be mutated")
            kind = f"Tensor(a{index}!){kind[len('Tensor'):]}"
        seen.add(name)
        params.append(f"{kind} {name}" if p.default is inspect.Parameter.empty else
                      f"{kind} {name}={_default(name, p.default, error)}")
    if not unknown and set(mutates_args) - seen:
        error(f"{set(mutates_args) - seen} in mutates_args were not found in the custom op's "
              "signature. mutates_args should contain the names of all args that the custom "
              "op mutates, or just the string 'unknown' if you don't know.")
    returns = _returns(signature.return_annotation, error)
    return f"{op_name or ''}({', '.join(params)}) -> {returns}"


def _default(name, value, error):
    if value is None or isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, (str, device)):
        return f'"{value}"'
    if isinstance(value, dtype):
        return str(value)[len("torch."):]
    error(f"Parameter {name} has an unsupported default value type {type(value)}. Please "
          "file an issue on GitHub so we can prioritize this.")


def _returns(annotation, error):
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error("No return type annotation was provided. Please add one.")
    parts = typing.get_args(annotation) if typing.get_origin(annotation) is tuple \
        else None
    for part in (annotation,) if parts is None else parts:
        if part not in RETURN_TYPES:
            error(f"Return has unsupported type {annotation}. The valid types are: "
                  f"{RETURN_TYPES}.")
    if parts is None:
        return RETURN_TYPES[annotation]
    inner = ", ".join(RETURN_TYPES[p] for p in parts)
    return f"(({inner}))" if len(parts) == 1 else f"({inner})"
