"""torchlike.nn.functional.

Activation/softmax/dropout/pad/embedding math (the op library) is defined here; the
layer functionals that nn modules need (conv, pooling, normalisation, losses,
attention) live in _functional_layers.py and are re-exported at the bottom.
"""
