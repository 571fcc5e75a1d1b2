"""nn.ChannelShuffle."""
from .. import _functional_layers as FL
from .module import Module


class ChannelShuffle(Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return FL.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
