"""PyTorch's module paths (torch.nn.modules.linear.Linear, torch.optim.optimizer.Optimizer
...) resolve under torchlike to the same objects as the short names."""
import importlib

import pytest

import torchlike

# (module path under torch/torchlike, attribute): each is importable in real torch
PATHS = [
    ("nn.functional", "relu"), ("nn.functional", "cross_entropy"),
    ("nn.functional", "fold"), ("nn.functional", "grid_sample"),
    ("nn.parameter", "Parameter"), ("nn.parameter", "Buffer"),
    ("nn.parameter", "UninitializedParameter"),
    ("nn.modules", "Linear"), ("nn.modules.module", "Module"),
    ("nn.modules.linear", "Linear"), ("nn.modules.linear", "Identity"),
    ("nn.modules.linear", "Bilinear"), ("nn.modules.linear", "LazyLinear"),
    ("nn.modules.activation", "ReLU"), ("nn.modules.activation", "MultiheadAttention"),
    ("nn.modules.activation", "RReLU"),
    ("nn.modules.conv", "Conv2d"), ("nn.modules.conv", "ConvTranspose1d"),
    ("nn.modules.conv", "LazyConv2d"),
    ("nn.modules.loss", "CrossEntropyLoss"), ("nn.modules.loss", "_Loss"),
    ("nn.modules.loss", "GaussianNLLLoss"),
    ("nn.modules.batchnorm", "BatchNorm2d"), ("nn.modules.batchnorm", "_BatchNorm"),
    ("nn.modules.batchnorm", "SyncBatchNorm"), ("nn.modules.batchnorm", "LazyBatchNorm1d"),
    ("nn.modules.instancenorm", "InstanceNorm1d"),
    ("nn.modules.normalization", "LayerNorm"),
    ("nn.modules.normalization", "LocalResponseNorm"),
    ("nn.modules.container", "Sequential"), ("nn.modules.container", "ModuleList"),
    ("nn.modules.container", "ModuleDict"), ("nn.modules.container", "ParameterList"),
    ("nn.modules.dropout", "Dropout"), ("nn.modules.dropout", "AlphaDropout"),
    ("nn.modules.sparse", "Embedding"), ("nn.modules.rnn", "LSTM"),
    ("nn.modules.transformer", "TransformerEncoderLayer"),
    ("nn.modules.pooling", "MaxPool2d"), ("nn.modules.pooling", "MaxUnpool2d"),
    ("nn.modules.pooling", "LPPool2d"),
    ("nn.modules.padding", "ZeroPad2d"), ("nn.modules.upsampling", "Upsample"),
    ("nn.modules.pixelshuffle", "PixelShuffle"), ("nn.modules.flatten", "Flatten"),
    ("nn.modules.fold", "Fold"), ("nn.modules.fold", "Unfold"),
    ("nn.modules.distance", "CosineSimilarity"),
    ("nn.modules.channelshuffle", "ChannelShuffle"),
    ("nn.modules.lazy", "LazyModuleMixin"),
    ("nn.modules.utils", "_pair"), ("nn.modules.utils", "consume_prefix_in_state_dict_if_present"),
    ("nn.utils", "clip_grad_norm_"), ("nn.utils.rnn", "pad_sequence"),
    ("nn.utils.rnn", "PackedSequence"), ("nn.utils.clip_grad", "clip_grad_norm_"),
    ("nn.utils.convert_parameters", "parameters_to_vector"),
    ("nn.utils.parametrize", "register_parametrization"),
    ("nn.utils.parametrizations", "orthogonal"), ("nn.utils.prune", "l1_unstructured"),
    ("nn.utils.weight_norm", "weight_norm"), ("nn.utils.spectral_norm", "spectral_norm"),
    ("nn.utils.fusion", "fuse_conv_bn_eval"), ("nn.utils.init", "skip_init"),
    ("nn.init", "kaiming_uniform_"),
    ("optim.optimizer", "Optimizer"), ("optim.lr_scheduler", "StepLR"),
    ("optim.lr_scheduler", "LRScheduler"), ("optim.sgd", "SGD"), ("optim.adam", "Adam"),
    ("optim.adamw", "AdamW"), ("optim.adagrad", "Adagrad"), ("optim.rmsprop", "RMSprop"),
    ("optim.adamax", "Adamax"), ("optim.nadam", "NAdam"), ("optim.radam", "RAdam"),
    ("optim.adadelta", "Adadelta"), ("optim.rprop", "Rprop"), ("optim.asgd", "ASGD"),
    ("optim.lbfgs", "LBFGS"), ("optim.sparse_adam", "SparseAdam"),
    ("optim.swa_utils", "AveragedModel"), ("optim.swa_utils", "SWALR"),
    ("nn.attention", "sdpa_kernel"), ("nn.modules.pooling", "FractionalMaxPool2d"),
    ("utils.data", "DataLoader"), ("utils.data.dataloader", "DataLoader"),
    ("utils.data.dataloader", "default_collate"),
    ("utils.data.dataset", "Dataset"), ("utils.data.dataset", "TensorDataset"),
    ("utils.data.sampler", "RandomSampler"),
    ("utils.benchmark", "Timer"), ("utils.benchmark", "Measurement"),
    ("utils.benchmark", "Compare"),
    ("random", "fork_rng"), ("random", "manual_seed"), ("random", "get_rng_state"),
    ("utils.model_zoo", "load_url"),
    ("profiler", "profile"), ("profiler", "record_function"), ("profiler", "schedule"),
    ("autograd.profiler", "record_function"), ("autograd.profiler", "profile"),
]


@pytest.mark.parametrize("path,name", PATHS, ids=[f"{p}.{n}" for p, n in PATHS])
def test_path_resolves_like_torch(oracle, path, name):
    theirs = getattr(importlib.import_module("torch." + path), name)
    ours = getattr(importlib.import_module("torchlike." + path), name)
    assert getattr(ours, "__name__", None) == getattr(theirs, "__name__", None)
    assert callable(ours) == callable(theirs)


# the same object whichever path reaches it
@pytest.mark.parametrize("path,short", [
    ("nn.modules.linear.Linear", "nn.Linear"),
    ("nn.modules.activation.MultiheadAttention", "nn.MultiheadAttention"),
    ("nn.modules.batchnorm.BatchNorm1d", "nn.BatchNorm1d"),
    ("nn.modules.conv.Conv2d", "nn.Conv2d"),
    ("optim.optimizer.Optimizer", "optim.Optimizer"),
    ("optim.adamw.AdamW", "optim.AdamW"),
    ("nn.parameter.Parameter", "nn.Parameter"),
    ("nn.utils.parametrize.register_parametrization",
     "nn.utils.parametrize.register_parametrization"),
])
def test_long_and_short_paths_are_one_object(path, short):
    module, _, name = path.rpartition(".")
    long_obj = getattr(importlib.import_module("torchlike." + module), name)
    obj = torchlike
    for part in short.split("."):
        obj = getattr(obj, part)
    assert long_obj is obj


def test_import_as_statements():
    import torchlike.nn.functional as F
    from torchlike.nn.modules.activation import MultiheadAttention
    from torchlike.utils.data.dataloader import DataLoader
    assert F is torchlike.nn.functional
    assert MultiheadAttention is torchlike.nn.MultiheadAttention
    assert DataLoader is torchlike.utils.data.DataLoader
