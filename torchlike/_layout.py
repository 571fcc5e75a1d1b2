"""torch.layout: how a tensor's elements are stored (strided or sparse COO).

A `layout` is a str subclass so that code comparing with the names torchlike used
before ("torch.strided") keeps working, while `isinstance(x.layout, torch.layout)`
and the repr are PyTorch's.
"""


class layout(str):
    __slots__ = ()

    def __repr__(self):
        return str.__str__(self)

    def __reduce__(self):
        return (layout, (str.__str__(self),))


strided = layout("torch.strided")
sparse_coo = layout("torch.sparse_coo")
