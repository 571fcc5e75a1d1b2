"""torchlike.load and torchlike.save, in parts (see torchlike/serialization.py)."""
