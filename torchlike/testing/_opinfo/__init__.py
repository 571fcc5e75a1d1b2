"""torchlike's own OpInfo tables: the samples of tests/test_ops_oracle.py and the coverage
marks of docs/supported_ops.md (core.py defines the notation). PyTorch's op_db is the
second oracle (tests/test_opdb.py); see docs/design.md for how the two divide the work."""
