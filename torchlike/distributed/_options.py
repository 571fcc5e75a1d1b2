"""The per-collective option records of torch.distributed (ProcessGroup's low-level API
takes them). Plain records here: torchlike's collectives take keyword arguments."""
import datetime

from ._collectives import ReduceOp

# PyTorch's "no timeout given" marker: -1 ms
_UNSET_TIMEOUT = datetime.timedelta(milliseconds=-1)


class _Options:
    _fields = {}

    def __init__(self):
        self.asyncOp = True
        self.timeout = _UNSET_TIMEOUT
        for name, value in self._fields.items():
            setattr(self, name, list(value) if isinstance(value, list) else value)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _options(name, **fields):
    return type(name, (_Options,), {"_fields": fields, "__module__": __name__})


AllreduceOptions = _options("AllreduceOptions", reduceOp=ReduceOp.SUM)
AllreduceCoalescedOptions = _options("AllreduceCoalescedOptions", reduceOp=ReduceOp.SUM)
ReduceOptions = _options("ReduceOptions", reduceOp=ReduceOp.SUM, rootRank=0, rootTensor=0)
ReduceScatterOptions = _options("ReduceScatterOptions", reduceOp=ReduceOp.SUM)
BroadcastOptions = _options("BroadcastOptions", rootRank=0, rootTensor=0)
GatherOptions = _options("GatherOptions", rootRank=0)
ScatterOptions = _options("ScatterOptions", rootRank=0)
AllToAllOptions = _options("AllToAllOptions")
BarrierOptions = _options("BarrierOptions", device=None, device_ids=[])
