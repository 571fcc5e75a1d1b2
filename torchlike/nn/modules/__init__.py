"""torchlike.nn.modules: every Module class (re-exported by torchlike.nn)."""
from .module import Module
from .container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict
from .linear import Identity, Linear, Bilinear, Flatten, Unflatten, \
    NonDynamicallyQuantizableLinear
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .pooling import (MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
                      AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                      AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d)
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, LayerNorm, GroupNorm, RMSNorm)
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from .sparse import Embedding, EmbeddingBag
from .activation import (ReLU, ReLU6, SELU, SiLU, Mish, Hardswish, Hardsigmoid, Sigmoid, Tanh,
                         LogSigmoid, Softsign, Tanhshrink, Threshold, Hardtanh, GELU, ELU,
                         CELU, LeakyReLU, Softplus, Hardshrink, Softshrink, GLU, PReLU,
                         Softmax, Softmin, LogSoftmax, Softmax2d)
from .attention import MultiheadAttention
from .rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from .transformer import (TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer,
                          TransformerDecoder, Transformer)
from .padding import (ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
                      ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d, ZeroPad1d,
                      ZeroPad2d, ZeroPad3d)
from .upsampling import (Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle,
                         PixelUnshuffle)
from .fold import Fold, Unfold
from .distance import PairwiseDistance, CosineSimilarity
from .channelshuffle import ChannelShuffle
from .activation import RReLU
from .dropout import AlphaDropout, FeatureAlphaDropout
from .normalization import LocalResponseNorm
from .pooling import (LPPool1d, LPPool2d, LPPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d,
                      FractionalMaxPool2d, FractionalMaxPool3d)
from .container import Container
from .batchnorm import SyncBatchNorm
from .lazy import (LazyModuleMixin, LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d,
                   LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d,
                   LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyInstanceNorm1d,
                   LazyInstanceNorm2d, LazyInstanceNorm3d)
from .loss import (GaussianNLLLoss, PoissonNLLLoss, HingeEmbeddingLoss, SoftMarginLoss,
                   MultiLabelSoftMarginLoss, MultiMarginLoss, MultiLabelMarginLoss,
                   TripletMarginWithDistanceLoss, NLLLoss2d)
from .loss import (L1Loss, MSELoss, SmoothL1Loss, HuberLoss, NLLLoss, CrossEntropyLoss, BCELoss,
                   BCEWithLogitsLoss, KLDivLoss, CosineEmbeddingLoss, MarginRankingLoss,
                   TripletMarginLoss, CTCLoss)

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
    "Identity", "Linear", "Bilinear", "Flatten", "Unflatten",
    "NonDynamicallyQuantizableLinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d",
    "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "BatchNorm1d",
    "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "LayerNorm", "GroupNorm", "RMSNorm", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "Embedding", "EmbeddingBag", "ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardswish",
    "Hardsigmoid", "Sigmoid", "Tanh", "LogSigmoid", "Softsign", "Tanhshrink", "Threshold",
    "Hardtanh", "GELU", "ELU", "CELU", "LeakyReLU", "Softplus", "Hardshrink", "Softshrink",
    "GLU", "PReLU", "Softmax", "Softmin", "LogSoftmax", "Softmax2d", "MultiheadAttention",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer", "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss",
    "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
    "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "CTCLoss", "ConstantPad1d",
    "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
    "CircularPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle", "Fold", "Unfold",
    "PairwiseDistance", "CosineSimilarity", "ChannelShuffle", "RReLU", "AlphaDropout",
    "FeatureAlphaDropout", "LocalResponseNorm", "LPPool1d", "LPPool2d", "LPPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Container", "SyncBatchNorm",
    "LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
    "LazyInstanceNorm3d", "GaussianNLLLoss", "PoissonNLLLoss", "HingeEmbeddingLoss",
    "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "TripletMarginWithDistanceLoss", "NLLLoss2d", "FractionalMaxPool2d", "FractionalMaxPool3d",
]
