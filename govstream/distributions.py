"""Service-time and latency distributions as scenario YAML writes them.

Each kind is a small frozen pydantic model, selected by its ``dist`` field, so a typo in a
scenario is reported with the list of kinds that exist. The engine asks each model once for a
``sampler`` closure with its parameters already converted to seconds, so that drawing a value in
the simulation's inner loop costs one call into :mod:`random`; or for its ``quantile`` function,
which turns a uniform value into a draw, for draws that must depend on what they are for rather
than on how many came before (see `govstream.pipeline.exchange`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from statistics import NormalDist
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from govstream.durations import ClockDuration

__all__ = [
    "Constant",
    "DistributionSpec",
    "Empirical",
    "Exponential",
    "LogNormal",
    "Quantile",
    "Sampler",
    "Uniform",
    "parse_distribution",
]

Sampler = Callable[[random.Random], float]
"""Draws one value, in seconds, from the given generator (the engine owns seeding)."""
Quantile = Callable[[float], float]
"""The value, in seconds, at a probability in (0, 1): the inverse of the distribution function."""

_NORMAL = NormalDist()

# Standard normal quantile at 0.95: the p95 of a lognormal is exp(mu + Z95 * sigma).
_Z95 = 1.6448536269514722


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def mean_seconds(self) -> float:
        raise NotImplementedError

    def sampler(self) -> Sampler:
        raise NotImplementedError

    def quantile(self) -> Quantile:
        raise NotImplementedError


class Constant(_Distribution):
    """Always the same value: deterministic steps and tests."""

    dist: Literal["constant"] = "constant"
    value: ClockDuration

    def mean_seconds(self) -> float:
        return self.value.seconds

    def sampler(self) -> Sampler:
        value = self.value.seconds
        return lambda _rng: value

    def quantile(self) -> Quantile:
        value = self.value.seconds
        return lambda _p: value


class Exponential(_Distribution):
    """Memoryless: automated steps and transport with no typical duration."""

    dist: Literal["exponential"] = "exponential"
    mean: ClockDuration

    @model_validator(mode="after")
    def _positive(self) -> Exponential:
        if self.mean.seconds <= 0:
            raise ValueError(f"exponential mean must be greater than 0, not {self.mean}")
        return self

    def mean_seconds(self) -> float:
        return self.mean.seconds

    def sampler(self) -> Sampler:
        rate = 1.0 / self.mean.seconds
        return lambda rng: rng.expovariate(rate)

    def quantile(self) -> Quantile:
        mean = self.mean.seconds
        return lambda p: -mean * math.log1p(-p)


class LogNormal(_Distribution):
    """Skewed human work, given by the two numbers people know: the typical case and the p95."""

    dist: Literal["lognormal"] = "lognormal"
    median: ClockDuration
    p95: ClockDuration

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if self.median.seconds <= 0:
            raise ValueError(f"lognormal median must be greater than 0, not {self.median}")
        if self.p95.seconds <= self.median.seconds:
            raise ValueError(
                f"lognormal p95 ({self.p95}) must be greater than the median ({self.median})"
            )
        return self

    @property
    def mu(self) -> float:
        return math.log(self.median.seconds)

    @property
    def sigma(self) -> float:
        return (math.log(self.p95.seconds) - math.log(self.median.seconds)) / _Z95

    def mean_seconds(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def sampler(self) -> Sampler:
        mu, sigma = self.mu, self.sigma
        return lambda rng: rng.lognormvariate(mu, sigma)

    def quantile(self) -> Quantile:
        mu, sigma, normal = self.mu, self.sigma, _NORMAL.inv_cdf
        return lambda p: math.exp(mu + sigma * normal(p))


class Uniform(_Distribution):
    """Bounded jitter, e.g. network latency between two known limits."""

    dist: Literal["uniform"] = "uniform"
    low: ClockDuration
    high: ClockDuration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low.seconds > self.high.seconds:
            raise ValueError(f"uniform low ({self.low}) must not exceed high ({self.high})")
        return self

    def mean_seconds(self) -> float:
        return (self.low.seconds + self.high.seconds) / 2

    def sampler(self) -> Sampler:
        low, high = self.low.seconds, self.high.seconds
        return lambda rng: rng.uniform(low, high)

    def quantile(self) -> Quantile:
        low, high = self.low.seconds, self.high.seconds
        return lambda p: low + p * (high - low)


class Empirical(_Distribution):
    """Observed durations replayed as they are, each equally likely."""

    dist: Literal["empirical"] = "empirical"
    values: Annotated[tuple[ClockDuration, ...], Field(min_length=1)]

    def mean_seconds(self) -> float:
        return math.fsum(v.seconds for v in self.values) / len(self.values)

    def sampler(self) -> Sampler:
        values = tuple(v.seconds for v in self.values)
        return lambda rng: rng.choice(values)

    def quantile(self) -> Quantile:
        values, n = tuple(v.seconds for v in self.values), len(self.values)
        return lambda p: values[min(int(p * n), n - 1)]


DistributionSpec = Annotated[
    Constant | Exponential | LogNormal | Uniform | Empirical, Field(discriminator="dist")
]

_ADAPTER: TypeAdapter[DistributionSpec] = TypeAdapter(
    DistributionSpec, config=ConfigDict(title="distribution")
)


def parse_distribution(data: object) -> Constant | Exponential | LogNormal | Uniform | Empirical:
    """Validate one ``{dist: ..., ...}`` mapping outside a scenario model (tools, tests)."""
    return _ADAPTER.validate_python(data)
