"""Quicker forms of the `random.Random` draws producers make for every case, same values.

A run generates a trigger per case, and a trigger is dozens of draws: a weighted pick, a
string of random digits. `Random.choices` rebuilds its cumulative weights on every call and
builds a list to return one item; these helpers keep the weights built once and make the very
draws `choices` makes (one `random()` per item, bisected or scaled the same way), so a seed
gives the same data as before, only sooner.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")

DIGITS = "0123456789"


class Weighted(Generic[T]):
    """`rng.choices(population, weights=weights)[0]`, with the cumulative weights kept."""

    __slots__ = ("_cumulative", "_last", "_total", "population")

    def __init__(self, population: Iterable[T], weights: Iterable[float]) -> None:
        self.population: tuple[T, ...] = tuple(population)
        self._cumulative = list(accumulate(weights))
        if len(self._cumulative) != len(self.population):
            raise ValueError("The number of weights does not match the population")
        self._total = self._cumulative[-1] + 0.0 if self._cumulative else 0.0
        if self._total <= 0.0:
            raise ValueError("Total of weights must be greater than zero")
        if not math.isfinite(self._total):
            raise ValueError("Total of weights must be finite")
        self._last = len(self.population) - 1

    def pick(self, rng: random.Random) -> T:
        at = bisect(self._cumulative, rng.random() * self._total, 0, self._last)
        return self.population[at]


def chars(rng: random.Random, alphabet: Sequence[str], count: int) -> str:
    """`"".join(rng.choices(alphabet, k=count))`: one `random()` per character."""
    draw = rng.random
    size = float(len(alphabet))
    return "".join([alphabet[int(draw() * size)] for _ in range(count)])


def digits(rng: random.Random, count: int) -> str:
    """`count` random decimal digits, as `"".join(rng.choices("0123456789", k=count))`."""
    draw = rng.random
    return "".join([DIGITS[int(draw() * 10.0)] for _ in range(count)])
