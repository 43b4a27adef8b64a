"""One agency model for both engines: opening hours, service draw, rejection and outcome.

An agency serves every flow of the scenario that reaches it from one pool of clerks, unless the
scenario gives a flow its own desk there; each pool is modelled once, here, and the engines
only decide how its clerks wait (FIFO servers on SimPy's clock, or clerks an endpoint keeps on
the business clock). A request's service time and its rejection, and a wait's length, are drawn
for that case and step (`draws`), so both engines draw the same.
"""

from __future__ import annotations

import random

from govstream.calendar.agency_hours import AgencyHours
from govstream.calendar.working import WorkingCalendar
from govstream.distributions import Quantile
from govstream.pipeline.draws import KeyedDraws
from govstream.scenario.model import Agency, Scenario
from processors import FLOWS
from processors.agency import outcome_for
from processors.events import Emit, Record
from processors.flow import FlowSpec, Step, unit_of

REJECTED_REASON = "request rejected by the recipient"


def longest_draw(scenario: Scenario) -> float:
    """The longest service or wait a draw may last: twice the whole run (arrivals and drain).

    A lognormal with a wide spread (median 1 min, p95 300 days) draws now and then a value of
    centuries, which would walk an office calendar day by day past the year 9999. Work that
    long cannot end within the run however it is drawn, so the cap changes no figure the run
    reports; it only keeps the calendar arithmetic finite.
    """
    return 2.0 * (scenario.duration.clock_seconds() + scenario.drain.clock_seconds())


def pool_name(agency: str, flow_id: str, spec: Agency) -> str:
    """`bank`, or `bank@F01` where the scenario gives F01 its own desk at the bank."""
    return f"{agency}@{flow_id}" if flow_id in spec.desks else agency


def seeded(seed: int, name: str) -> random.Random:
    """Every random stream is seeded from the scenario seed and its own name, so adding a flow
    or an agency does not shift the draws of the others."""
    return random.Random(f"{seed}:{name}")


class AgencyPool:
    """One pool of clerks at an agency: which flows' steps it serves and how it acts on them."""

    def __init__(
        self,
        name: str,
        agency: str,
        servers: int,
        spec: Agency,
        scenario: Scenario,
        flows: list[str],
        calendar: WorkingCalendar | None,
    ) -> None:
        self.name = name
        self.agency = agency
        self.servers = servers
        self.spec = spec
        self.flows = flows
        self.hours = AgencyHours(spec, calendar)
        self.rng = seeded(scenario.seed, f"agency:{name}")
        """For the data an answer carries (a reserved account number), drawn as answers go
        (on the sim engine, which sends no message, as they are first read)."""
        self._longest = longest_draw(scenario)
        self._work = KeyedDraws(scenario.seed, "service")
        self._refusals = KeyedDraws(scenario.seed, "rejection")
        self._service: dict[tuple[str, str], Quantile] = {}
        self._reject: dict[tuple[str, str], float] = {}
        for flow_id in flows:
            for step in FLOWS[flow_id].steps_of(agency):
                key = (flow_id, step.id)
                self._service[key] = scenario.service_time(flow_id, step.id).quantile()
                own = scenario.settings_of(flow_id, step.id).reject_probability
                self._reject[key] = spec.reject_probability if own is None else own

    def service_time(self, flow_id: str, step_id: str, case_id: str, unit: str = "") -> float:
        """`unit` is what the request is for (`processors.flow.unit_of`): the step, or one
        item of it, which gets a draw of its own."""
        drawn = self._service[flow_id, step_id](self._work.uniform(case_id, unit or step_id))
        return min(drawn, self._longest)

    def act(self, flow: FlowSpec, step: Step, request: Record) -> Emit:
        """The outcome once the work is done: rejected with the scenario's probability."""
        p = self._reject[flow.id, step.id]
        rejected = p > 0 and self._refusals.uniform(str(request["case_id"]), unit_of(request)) < p
        return outcome_for(
            flow, step, request, self.rng, rejected_reason=REJECTED_REASON if rejected else None
        )


class Waits:
    """Waits outside any agency (a supplier delivering): a duration, then an outcome."""

    def __init__(self, scenario: Scenario) -> None:
        self._longest = longest_draw(scenario)
        self._draws = KeyedDraws(scenario.seed, "wait")
        self._duration: dict[tuple[str, str], Quantile] = {}
        self._rng: dict[tuple[str, str], random.Random] = {}
        for flow_id in scenario.flows:
            for step in FLOWS[flow_id].waits:
                key = (flow_id, step.id)
                self._rng[key] = seeded(scenario.seed, f"wait:{flow_id}:{step.id}")
                duration = scenario.settings_of(flow_id, step.id).duration
                if duration is not None:  # validated: given where the case's data says not
                    self._duration[key] = duration.quantile()

    def duration(self, flow_id: str, step_id: str, request: Record) -> float:
        """How long the wait `request` asks for lasts: drawn where the scenario gives the step
        a duration, else as long as its case's data says."""
        lasts = request.get("lasts_seconds")
        if (flow_id, step_id) not in self._duration and lasts is not None:
            return min(float(lasts), self._longest)
        unit = unit_of(request)
        drawn = self._duration[flow_id, step_id](
            self._draws.uniform(str(request["case_id"]), unit or step_id)
        )
        return min(drawn, self._longest)

    def act(self, flow: FlowSpec, step: Step, request: Record) -> Emit:
        return outcome_for(flow, step, request, self._rng[flow.id, step.id])


def agency_pools(
    scenario: Scenario, calendar: WorkingCalendar, *, flows: list[str] | None = None
) -> dict[str, AgencyPool]:
    """Every pool of the scenario, keyed by pool name, serving the flows that reach it."""
    pools: dict[str, AgencyPool] = {}
    for agency, spec in scenario.agencies.items():
        serving = [f for f in (flows or scenario.flows) if agency in FLOWS[f].agencies]
        shared = [f for f in serving if f not in spec.desks]
        office = calendar if spec.calendar == "office" else None
        if shared:
            pools[agency] = AgencyPool(agency, agency, spec.servers, spec, scenario, shared, office)
        for flow_id, desk in spec.desks.items():
            if flow_id in serving:
                name = pool_name(agency, flow_id, spec)
                hours = desk.calendar or spec.calendar
                pools[name] = AgencyPool(
                    name,
                    agency,
                    desk.servers,
                    spec,
                    scenario,
                    [flow_id],
                    calendar if hours == "office" else None,
                )
    return pools


def pool_for(
    pools: dict[str, AgencyPool], scenario: Scenario, flow_id: str, agency: str
) -> AgencyPool:
    return pools[pool_name(agency, flow_id, scenario.agencies[agency])]
