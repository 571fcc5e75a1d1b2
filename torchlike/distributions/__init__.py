"""torchlike.distributions: PyTorch's torch.distributions on torchlike tensors.

Every computation is a torchlike op, so autograd records log_prob, entropy, kl and
reparameterised samples (rsample) like any other computation. Draws come from
torchlike's generator (torchlike.manual_seed): the same seed gives the same numbers,
not PyTorch's numbers."""
from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy, HalfCauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403  (PyTorch exposes the transforms here too)
from .uniform import Uniform
from .weibull_pareto import Pareto, Weibull

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
           "Distribution", "ExponentialFamily", "Exponential", "Gamma", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "Laplace", "LogNormal",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Pareto", "Poisson", "RelaxedBernoulli", "StudentT",
           "TransformedDistribution", "Uniform", "Weibull", "constraints", "kl_divergence",
           "register_kl", "transforms"] + transforms.__all__
