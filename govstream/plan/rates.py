"""The plan's rate targets as data: the shares of cases it asks to be handled, with its words.

Measure 33 asks for rates of 100 % (投诉举报处理率、协同监管响应率100%). A scenario's rate target
labelled `source: plan` claims the plan's authority, so it must cite a measure listed here for
its flow and may not ask for less than the plan's share; a rate of the plan's that no target
checks is the scenario's choice, said in its notes, since a rate has no span to time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class RateTarget(Protocol):
    """What this table reads of a scenario's `rate` target."""

    @property
    def step(self) -> str: ...
    @property
    def measure(self) -> str | None: ...
    @property
    def at_least(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class PlanRate:
    flow: str
    measure: str
    what: str
    quote: str
    share: float
    step: str
    """The flow's step whose acted-on share the rate is."""


PLAN_RATES: tuple[PlanRate, ...] = (
    PlanRate(
        "F13",
        "M33",
        "every lead pushed to the enforcement agency acted on (协同监管响应率)",
        "投诉举报处理率、协同监管响应率100%",
        1.0,
        "lead",
    ),
)


def rates_of(flow_id: str) -> list[PlanRate]:
    return [rate for rate in PLAN_RATES if rate.flow == flow_id]


def rate_problem(flow_id: str, target: RateTarget) -> str | None:
    """What is wrong with a `source: plan` rate target, or None. The message names the field."""
    own = rates_of(flow_id)
    listed = ", ".join(sorted({rate.measure for rate in own})) or "none"
    if not target.measure:
        return f"measure: required when source is 'plan'; measures with a rate: {listed}"
    cited = [rate for rate in own if rate.measure == target.measure]
    if not cited:
        return (
            f"measure: {target.measure!r} sets {flow_id} no rate in the plan; measures with "
            f"one: {listed} (use source: author for a rate of your own)"
        )
    on_step = [rate for rate in cited if rate.step == target.step]
    if not on_step:
        steps = ", ".join(rate.step for rate in cited)
        return (
            f"step: the plan's {target.measure} rate «{cited[0].quote}» is on step {steps}, "
            f"not {target.step!r} (use source: author for a rate of your own)"
        )
    rate = on_step[0]
    if target.at_least is not None and target.at_least < rate.share:
        return (
            f"at_least: {target.at_least * 100:g}% is less than the plan's {rate.measure} "
            f"«{rate.quote}» ({rate.share * 100:g}%)"
        )
    return None
