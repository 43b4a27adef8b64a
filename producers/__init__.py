"""Source agencies: seeded generators of each flow's triggers, one module per agency."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from producers.amr import CompanyDeregistrationGenerator, DeregistrationMix
from producers.real_estate import PropertyTransferGenerator, PropertyTransferMix


@dataclass(frozen=True, slots=True)
class Source:
    """How to make one flow's triggers, and which population knobs a scenario may turn."""

    agency: str
    mix_type: type
    build: Callable[[random.Random, Any], Any]

    def mix_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.mix_type))

    def generator(
        self, rng: random.Random, population: Mapping[str, float]
    ) -> Callable[[str, date], dict[str, Any]]:
        defaults = self.mix_type()
        mix = dataclasses.replace(defaults, **_coerce(defaults, population))
        return self.build(rng, mix).generate


def _coerce(defaults: Any, population: Mapping[str, Any]) -> dict[str, Any]:
    """Sequence-valued knobs arrive from YAML as lists; the frozen mixes hold tuples."""
    return {
        name: tuple(value) if isinstance(getattr(defaults, name), tuple) else value
        for name, value in population.items()
    }


SOURCES: dict[str, Source] = {
    "F03": Source("amr", DeregistrationMix, CompanyDeregistrationGenerator),
    "F10": Source("real-estate", PropertyTransferMix, PropertyTransferGenerator),
}
