from . import hooks, data
