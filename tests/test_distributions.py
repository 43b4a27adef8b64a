import math
import random
import statistics

import pytest
from pydantic import BaseModel, ValidationError

from govstream.distributions import (
    Constant,
    DistributionSpec,
    Empirical,
    Exponential,
    LogNormal,
    Uniform,
    parse_distribution,
)

N = 200_000


def draws(spec: dict, seed: int = 1) -> list[float]:
    sample = parse_distribution(spec).sampler()
    rng = random.Random(seed)
    return [sample(rng) for _ in range(N)]


@pytest.mark.parametrize(
    ("spec", "kind", "mean"),
    [
        ({"dist": "constant", "value": "5s"}, Constant, 5.0),
        ({"dist": "exponential", "mean": "30min"}, Exponential, 1800.0),
        ({"dist": "uniform", "low": "50ms", "high": "300ms"}, Uniform, 0.175),
        ({"dist": "empirical", "values": ["10min", "25min", "1h", "3h"]}, Empirical, 4125.0),
    ],
)
def test_parse_and_analytic_mean(spec: dict, kind: type, mean: float) -> None:
    dist = parse_distribution(spec)
    assert isinstance(dist, kind)
    assert dist.mean_seconds() == pytest.approx(mean)


def test_lognormal_parameters() -> None:
    dist = parse_distribution({"dist": "lognormal", "median": "2h", "p95": "1d"})
    assert isinstance(dist, LogNormal)
    assert dist.mu == pytest.approx(math.log(7200))
    # p95 = exp(mu + 1.645 sigma) = 86400 s
    assert math.exp(dist.mu + 1.6448536269514722 * dist.sigma) == pytest.approx(86400)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "exponential", "mean": "30min"},
        {"dist": "lognormal", "median": "2h", "p95": "1d"},
        {"dist": "lognormal", "median": "40s", "p95": "1min"},
        {"dist": "uniform", "low": "50ms", "high": "300ms"},
        {"dist": "empirical", "values": ["10min", "25min", "1h", "3h"]},
    ],
)
def test_sample_mean_matches_analytic_mean(spec: dict) -> None:
    values = draws(spec)
    mean = parse_distribution(spec).mean_seconds()
    standard_error = statistics.pstdev(values) / math.sqrt(N)
    assert abs(statistics.fmean(values) - mean) < 5 * standard_error


def test_constant_always_returns_its_value() -> None:
    assert set(draws({"dist": "constant", "value": "5s"})[:1000]) == {5.0}


def test_lognormal_sample_median_and_p95_match_spec() -> None:
    values = sorted(draws({"dist": "lognormal", "median": "2h", "p95": "1d"}, seed=3))
    assert values[N // 2] == pytest.approx(7200, rel=0.02)
    assert values[int(0.95 * N)] == pytest.approx(86400, rel=0.02)


def test_uniform_stays_within_bounds() -> None:
    values = draws({"dist": "uniform", "low": "50ms", "high": "300ms"})
    assert min(values) >= 0.05
    assert max(values) <= 0.3


def test_empirical_draws_only_given_values_and_all_of_them() -> None:
    values = draws({"dist": "empirical", "values": ["10min", "25min", "1h", "3h"]})
    assert set(values) == {600.0, 1500.0, 3600.0, 10800.0}


def test_sampler_is_deterministic_for_a_seed() -> None:
    spec = {"dist": "lognormal", "median": "2h", "p95": "1d"}
    assert draws(spec, seed=9)[:100] == draws(spec, seed=9)[:100]
    assert draws(spec, seed=9)[:100] != draws(spec, seed=10)[:100]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"dist": "lognormal", "median": "2h", "p95": "1h"}, "must be greater than the median"),
        ({"dist": "lognormal", "median": "2h", "p95": "2h"}, "must be greater than the median"),
        ({"dist": "lognormal", "median": "0s", "p95": "2h"}, "median must be greater than 0"),
        ({"dist": "exponential", "mean": 0}, "greater than 0"),
        ({"dist": "constant", "value": "-5s"}, "negative"),
        ({"dist": "exponential", "mean": -3}, "negative"),
        ({"dist": "uniform", "low": "2s", "high": "1s"}, "must not exceed"),
        ({"dist": "empirical", "values": []}, "at least 1"),
        ({"dist": "empirical", "values": ["1s", "-1s"]}, "negative"),
        ({"dist": "constant", "value": "2wd"}, "only allowed for SLA targets"),
        ({"dist": "constant", "value": "5s", "mean": "5s"}, "Extra inputs"),
    ],
)
def test_invalid_specs(spec: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_distribution(spec)
    assert fragment in str(info.value)


def test_unknown_dist_lists_allowed_kinds() -> None:
    with pytest.raises(ValidationError) as info:
        parse_distribution({"dist": "gamma", "mean": "1h"})
    message = str(info.value)
    assert "'gamma'" in message
    for kind in ("constant", "exponential", "lognormal", "uniform", "empirical"):
        assert f"'{kind}'" in message


class _Step(BaseModel):
    service_time: DistributionSpec


def test_usable_as_a_field_in_a_scenario_model() -> None:
    step = _Step.model_validate({"service_time": {"dist": "exponential", "mean": "30min"}})
    assert step.service_time.mean_seconds() == 1800.0
    with pytest.raises(ValidationError) as info:
        _Step.model_validate({"service_time": {"dist": "normal", "mean": "1h"}})
    assert info.value.errors()[0]["loc"] == ("service_time",)
    assert "'lognormal'" in str(info.value)


def test_models_are_frozen() -> None:
    dist = parse_distribution({"dist": "constant", "value": "5s"})
    with pytest.raises(ValidationError):
        dist.value = "6s"  # type: ignore[misc]
