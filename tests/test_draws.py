"""The producers' quicker draws give the values `random.Random` gives for the same seed.

A seed is a study's identity: the same seed must make the same companies, people and numbers
whichever way the draws are written, or a result could not be rerun.
"""

from __future__ import annotations

import random
import uuid

import pytest

from producers.draw import Weighted, chars, digits
from producers.ids import event_id


@pytest.mark.parametrize(
    ("population", "weights"),
    [
        ("abc", (0.2, 0.5, 0.3)),
        (range(10), (0.3, 0.18, 0.15, 0.11, 0.08, 0.06, 0.04, 0.03, 0.03, 0.02)),
        ((1, 2, 3), (0.0, 1.0, 0.0)),
        (("only",), (4.0,)),
    ],
)
def test_a_weighted_pick_is_the_choice_random_makes(population: object, weights: tuple) -> None:
    picker = Weighted(population, weights)  # type: ignore[arg-type]
    ours, theirs = random.Random(7), random.Random(7)
    for _ in range(2_000):
        assert picker.pick(ours) == theirs.choices(population, weights=weights)[0]  # type: ignore[call-overload]


def test_weights_that_cannot_be_drawn_from_are_refused() -> None:
    with pytest.raises(ValueError):
        Weighted("ab", (0.0, 0.0))
    with pytest.raises(ValueError):
        Weighted("ab", (1.0,))


def test_characters_and_digits_are_the_ones_random_choices_draws() -> None:
    ours, theirs = random.Random(11), random.Random(11)
    for count in (0, 1, 5, 8, 17):
        assert digits(ours, count) == "".join(theirs.choices("0123456789", k=count))
        assert chars(ours, "XYZ", count) == "".join(theirs.choices("XYZ", k=count))


def test_an_event_id_is_the_text_of_a_version_4_uuid_from_the_same_bits() -> None:
    for seed in range(500):
        drawn = event_id(random.Random(seed))
        expected = uuid.UUID(int=random.Random(seed).getrandbits(128), version=4)
        assert drawn == str(expected) and uuid.UUID(drawn).version == 4
