"""The torch.distributions section of docs/supported_ops.md (hand-written: the
distributions are classes, not op-table entries)."""

_EXISTS = [
    ("Distributions", "`Bernoulli`, `Beta`, `Binomial`, `Categorical`, `Dirichlet`, "
     "`Exponential`, `Gamma`, `Gumbel`, `Independent`, `Laplace`, `LogNormal`, "
     "`MultivariateNormal` (covariance_matrix / precision_matrix / scale_tril), `Normal`, "
     "`OneHotCategorical`, `Poisson`, `RelaxedBernoulli` (and its `LogitRelaxedBernoulli`), "
     "`TransformedDistribution`, `Uniform`; bases "
     "`Distribution`, `ExponentialFamily`"),
    ("Distribution API", "`batch_shape`, `event_shape`, `sample`/`rsample(sample_shape)`, "
     "`log_prob`, `entropy`, `perplexity`, `mean`, `mode`, `variance`, `stddev`, `cdf`/`icdf` "
     "where PyTorch has them, `enumerate_support`, `expand`, `support`, `arg_constraints`, "
     "`has_rsample`, `validate_args` and `Distribution.set_default_validate_args` with "
     "PyTorch's messages"),
    ("Transforms", "`ExpTransform`, `AffineTransform`, `SigmoidTransform`, `TanhTransform`, "
     "`PowerTransform`, `SoftplusTransform`, `AbsTransform`, `SoftmaxTransform`, "
     "`ComposeTransform`, `identity_transform`, `.inv`, `cache_size=1`"),
    ("Constraints", "`real`, `real_vector`, `positive`, `nonnegative`, `greater_than(_eq)`, "
     "`less_than`, `interval`, `half_open_interval`, `unit_interval`, `boolean`, `one_hot`, "
     "`integer_interval`, `nonnegative_integer`, `positive_integer`, `simplex`, "
     "`multinomial`, `lower_triangular`, `lower_cholesky`, `square`, `symmetric`, "
     "`positive_semidefinite`, `positive_definite`, `independent`, `dependent`, "
     "`dependent_property`, `is_dependent`"),
    ("KL divergence", "`kl_divergence`, `register_kl` (most specific match, PyTorch's "
     "ambiguity warning); closed forms for every pair PyTorch registers among the "
     "distributions above, the Bregman divergence for two of one exponential family"),
]

_MISSING = ("`Cauchy`, `Chi2`, `ContinuousBernoulli`, `FisherSnedecor`, `GeneralizedPareto`, "
            "`Geometric`, `HalfCauchy`, `HalfNormal`, `InverseGamma`, `Kumaraswamy`, "
            "`LKJCholesky`, `LogisticNormal`, `LowRankMultivariateNormal`, "
            "`MixtureSameFamily`, `Multinomial`, `NegativeBinomial`, "
            "`OneHotCategoricalStraightThrough`, `Pareto`, `RelaxedOneHotCategorical`, "
            "`StudentT`, `VonMises`, `Weibull`, `Wishart`; the "
            "transforms `CatTransform`, `StackTransform`, `CorrCholeskyTransform`, "
            "`CumulativeDistributionTransform`, `IndependentTransform`, "
            "`LowerCholeskyTransform`, `PositiveDefiniteTransform`, `ReshapeTransform`, "
            "`StickBreakingTransform`; `constraint_registry` (`biject_to`, `transform_to`); "
            "the constraints `corr_cholesky`, `cat`, `stack`")


def markdown_lines():
    lines = ["## torch.distributions", "",
             "Tested against `torch.distributions` in `tests/test_distributions.py`: log_prob, "
             "entropy, moments, cdf/icdf and KL values and their gradients on the same "
             "parameters; samples statistically (torchlike's generator draws other numbers "
             "than PyTorch's), with PyTorch's shapes and dtypes; gradients flow through "
             "`rsample` (Gamma, Beta and Dirichlet by implicit reparameterisation).", "",
             "| part | what exists |", "|---|---|"]
    lines += [f"| {part} | {what} |" for part, what in _EXISTS]
    lines += ["", f"Missing: {_MISSING}.", ""]
    return lines
