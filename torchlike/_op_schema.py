"""PyTorch's operator schemas ("scale(Tensor x, float alpha=2., *, bool twice=False) ->
Tensor"), as torch.library.define takes them: the argument names, defaults and
keyword-only marker that a call binds to, and the declaration PyTorch's errors show."""
import ast


class Argument:
    __slots__ = ("type", "name", "default", "has_default", "kwarg_only")

    def __init__(self, type_, name, default, has_default, kwarg_only):
        self.type, self.name, self.default = type_, name, default
        self.has_default, self.kwarg_only = has_default, kwarg_only

    def __str__(self):
        shown = f"{self.type} {self.name}"
        return shown + ("=" + _render(self.default) if self.has_default else "")


class Schema:
    """name(arguments) -> returns, parsed."""

    def __init__(self, qualname, text):
        head, _, returns = text.partition("->")
        head, returns = head.strip(), returns.strip()
        if not returns or not head.endswith(")") or "(" not in head:
            raise RuntimeError(f"Invalid schema: {qualname}{text}")
        opened = head.index("(")
        self.qualname = qualname + head[:opened]     # ("ns::" + the name in the text)
        self.arguments = _arguments(head[opened + 1:-1])
        self.returns = returns

    @property
    def name(self):
        return self.qualname.split("::", 1)[1].split(".")[0]

    def __str__(self):
        args, star = [], False
        for a in self.arguments:
            if a.kwarg_only and not star:
                args.append("*")
                star = True
            args.append(str(a))
        return f"{self.qualname}({', '.join(args)}) -> {self.returns}"

    def bind(self, args, kwargs):
        """The call's values, one per argument in order (defaults filled), with
        PyTorch's errors for too many positional arguments or a missing one."""
        given = len(args) + len(kwargs)
        positional = len([a for a in self.arguments if not a.kwarg_only])
        if len(args) > positional:
            raise RuntimeError(f"{self.qualname}() takes {positional} positional argument(s) "
                               f"but {len(args)} was/were given.  Declaration: {self}")
        if given > len(self.arguments):
            raise RuntimeError(f"{self.qualname}() expected at most {len(self.arguments)} "
                               f"argument(s) but received {given} argument(s). "
                               f"Declaration: {self}")
        values = list(args)
        for a in self.arguments[len(args):]:
            if a.name in kwargs:
                values.append(kwargs.pop(a.name))
            elif a.has_default:
                values.append(a.default)
            else:
                raise RuntimeError(f"{self.qualname}() is missing value for argument "
                                   f"'{a.name}'. Declaration: {self}")
        if kwargs:
            name = next(iter(kwargs))
            raise RuntimeError(f"Unknown keyword argument '{name}' for operator "
                               f"'{self.qualname}'. Schema: {self}")
        for position, (a, value) in enumerate(zip(self.arguments, values)):
            self._check_type(position, a, value)
        return values

    def _check_type(self, position, argument, value):
        """PyTorch's error for a value of another type than a plain argument type
        (Tensor, float, int, bool, str; `?`: or None); other types are not checked."""
        kind = argument.type.split("(")[0]
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        accepted = _ACCEPTED.get(kind)
        if accepted is None or (optional and value is None) or accepted(value):
            return
        if optional:
            kind = f"Optional[{kind}]"
        raise RuntimeError(f"{self.qualname}() Expected a value of type '{kind}' for "
                           f"argument '{argument.name}' but instead found type "
                           f"'{type(value).__name__}'.\nPosition: {position}\n"
                           f"Value: {value!r}\nDeclaration: {self}")


def _is_tensor(value):
    from ._tensor import Tensor
    return isinstance(value, Tensor)


# (PyTorch's: a bool passes for an int and a float, an int for a bool)
_ACCEPTED = {"Tensor": _is_tensor, "float": lambda v: isinstance(v, (int, float)),
             "int": lambda v: isinstance(v, int), "bool": lambda v: isinstance(v, int),
             "str": lambda v: isinstance(v, str)}


def _arguments(text):
    out, kwarg_only = [], False
    for part in _split(text):
        if part == "*":
            kwarg_only = True
            continue
        declared, eq, default = part.partition("=")
        type_, _, name = declared.strip().rpartition(" ")
        out.append(Argument(type_.strip(), name,
                            ast.literal_eval(default.strip()) if eq else None,
                            bool(eq), kwarg_only))
    return out


def _split(text):
    """Comma-separated parts at bracket depth 0 (a default `[1, 2]`, a type `int[2]`)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return parts + [last] if last else parts


def _render(value):
    """A default as PyTorch's declarations print it (a whole float as `2.`)."""
    if isinstance(value, float) and value.is_integer():
        return f"{int(value)}."
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_render, value)) + "]"
    return repr(value)
