"""torch.random (fork_rng), torch.types and torch.utils.model_zoo, against torch."""
import pytest

import torchlike
import torchlike.random
import torchlike.types
import torchlike.utils.model_zoo

torch = pytest.importorskip("torch")
import torch.types  # noqa: E402


@pytest.mark.parametrize("lib", [torchlike, torch], ids=["torchlike", "torch"])
def test_fork_rng_leaves_the_generator_as_before(lib):
    lib.manual_seed(0)
    expected = lib.rand(3)
    lib.manual_seed(0)
    with lib.random.fork_rng():
        inside = lib.rand(3)
        lib.rand(7)
    after = lib.rand(3)
    assert lib.equal(inside, expected) and lib.equal(after, expected)
    lib.manual_seed(0)
    with lib.random.fork_rng(enabled=False):
        lib.rand(3)
    assert not lib.equal(lib.rand(3), expected)     # (a draw inside moved the state)


def test_type_aliases_exist_as_in_torch():
    for name in torchlike.types.__all__:
        assert hasattr(torch.types, name), name
    assert isinstance(3.0, torchlike.types._Number) and not isinstance("3", torchlike.types._Number)
    assert torchlike.types._Number == torch.types._Number


def test_model_zoo_load_url_is_the_hub_loader():
    assert torchlike.utils.model_zoo.load_url is torchlike.hub.load_state_dict_from_url
