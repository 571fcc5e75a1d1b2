"""Oracle samples for nn ops (see opinfo.py for the notation)."""
from .opinfo import D, E, L, OpInfo, S, T  # noqa: F401

