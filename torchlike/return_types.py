"""torch.return_types: the named tuples some ops return (`values` and `indices` of max,
sort, topk; `sign` and `logabsdet` of slogdet ...), printed as PyTorch prints them."""
import collections


def structseq(name, fields):
    """The named tuple type `torch.return_types.<name>` with `fields`: a tuple whose
    items are also attributes, made once per name and kept here (so it pickles by
    name)."""
    cls = globals().get(name)
    if isinstance(cls, type) and issubclass(cls, tuple) and cls._fields == tuple(fields):
        return cls
    cls = type(name, (collections.namedtuple(name, fields),),
               {"__slots__": (), "__repr__": _repr, "__module__": __name__})
    globals()[name] = cls
    return cls


def _repr(self):
    # PyTorch's layout: the type's full name, then one `field=value` per line
    items = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{items})"
