from . import hooks, data, _pytree
