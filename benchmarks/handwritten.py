"""Baselines written by hand in plain SimPy: what a modeller would write for one study.

They are what govstream's cost is measured against, so they do the same simulation work and
nothing else:

- the same arrivals (Poisson at the scenario's rate; F09's applicants only in office hours),
- the same transport hops (lognormal, to the platform, to the agency, and the answer back),
- the same platform (a pool of servers with its constant service time),
- the same agency pools (clerks, office hours on Chinese working days with holidays and
  make-up days, the same service-time distributions, work paused while the office is closed),
- and completion tracking (each case knows which of its steps are still out, and its end-to-end
  time is kept).

What they leave out is what govstream adds on top: synthetic trigger data, request projections
and Avro contracts, latency histograms and working-day measures, time series, counters,
censoring of open cases, the result file, and any generality (each model is one function per
flow, written for it).

The scenario's numbers (rates, servers, service times, calendar) are read from its YAML with
plain `yaml`, so a baseline cannot drift from the scenario it is compared with; no govstream
code runs in them.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import simpy
import yaml

Z95 = 1.6448536269514722
"""The standard normal quantile at 0.95: a lognormal's p95 is exp(mu + Z95 * sigma)."""

UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}

Sampler = Callable[[], float]
Proc = Generator[simpy.Event, Any, Any]


def seconds(text: str | float | int) -> float:
    """`150ms`, `20min`, `3w` or a bare number of seconds, as scenario files write them."""
    if isinstance(text, int | float):
        return float(text)
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * UNITS[unit]
    return float(text)


def per_second(text: str | float | int) -> float:
    """`40/d`, `1.6/s`: events per second."""
    if isinstance(text, int | float):
        return float(text)
    number, _, unit = text.partition("/")
    return float(number) / UNITS[unit or "s"]


def sampler(spec: dict[str, Any], rng: random.Random) -> Sampler:
    """A draw from a scenario distribution, in seconds."""
    kind = spec["dist"]
    if kind == "constant":
        value = seconds(spec["value"])
        return lambda: value
    if kind == "exponential":
        rate = 1.0 / seconds(spec["mean"])
        return lambda: rng.expovariate(rate)
    if kind == "lognormal":
        mu = math.log(seconds(spec["median"]))
        sigma = (math.log(seconds(spec["p95"])) - mu) / Z95
        return lambda: rng.lognormvariate(mu, sigma)
    raise ValueError(f"the hand-written models know no {kind!r} distribution")


class OfficeHours:
    """Open intervals of every day of the run as absolute seconds, found by bisection."""

    def __init__(self, start: datetime, days: int, spans: list[str]) -> None:
        hours = []
        for span in spans:
            opens, closes = span.split("-")
            hours.append((time.fromisoformat(opens), time.fromisoformat(closes)))
        origin = start.timestamp()
        self.opens: list[float] = []
        self.closes: list[float] = []
        first = start.date()
        for offset in range(days + 1):
            day = first + timedelta(days=offset)
            if not chinese_calendar.is_workday(day):
                continue
            for opens, closes in hours:
                self.opens.append(datetime.combine(day, opens, start.tzinfo).timestamp() - origin)
                self.closes.append(datetime.combine(day, closes, start.tzinfo).timestamp() - origin)
        self.day_seconds = sum(
            (datetime.combine(first, b) - datetime.combine(first, a)).total_seconds()
            for a, b in hours
        )

    def next_open(self, t: float) -> float:
        i = bisect.bisect_right(self.closes, t)
        return max(self.opens[i], t)

    def finish(self, t: float, work: float) -> float:
        """When `work` seconds of work begun at `t` are done, working only while open."""
        i = bisect.bisect_right(self.closes, t)
        while True:
            begin = max(self.opens[i], t)
            left = self.closes[i] - begin
            if work <= left:
                return begin + work
            work -= left
            i += 1


@dataclass
class Pool:
    """An agency's clerks: FIFO, and on office hours unless `hours` is None."""

    clerks: simpy.Resource
    hours: OfficeHours | None


class Model:
    """The shared skeleton: transport, platform, pools, and the completion list."""

    def __init__(self, scenario: dict[str, Any], days: int, seed: int) -> None:
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        self.start = _aware(scenario["start"])
        calendar = scenario.get("calendar", {})
        self.office = OfficeHours(
            self.start,
            days,
            calendar.get("office_hours", ["09:00-12:00", "13:30-17:30"]),
        )
        self.transport = sampler(scenario["transport"]["latency"], self.rng)
        platform = scenario["platform"]
        self.platform = simpy.Resource(self.env, capacity=platform["servers"])
        self.platform_time = sampler(platform["service_time"], self.rng)
        self.pools: dict[str, Pool] = {}
        for name, agency in scenario["agencies"].items():
            office = self.office if agency.get("calendar", "always") == "office" else None
            self.pools[name] = Pool(simpy.Resource(self.env, agency["servers"]), office)
            for flow_id, desk in agency.get("desks", {}).items():
                hours = desk.get("calendar", agency.get("calendar", "always"))
                self.pools[f"{name}@{flow_id}"] = Pool(
                    simpy.Resource(self.env, desk["servers"]),
                    self.office if hours == "office" else None,
                )
        self.latencies: list[float] = []

    def arrivals(
        self, rate: float, window: float, case: Callable[[float], Proc], office: bool = False
    ) -> Proc:
        """Poisson arrivals until `window`; in office hours only when `office`."""
        env, rng = self.env, self.rng
        if office:
            rate = rate * 86400 / self.office.day_seconds
        t = 0.0
        while True:
            gap = rng.expovariate(rate)
            t = self.office.finish(t, gap) if office else t + gap
            if t >= window:
                return
            yield env.timeout(t - env.now)
            env.process(case(t))

    def to_platform(self) -> Proc:
        """The trigger's hop to the platform and its turn there."""
        env = self.env
        yield env.timeout(self.transport())
        with self.platform.request() as slot:
            yield slot
            yield env.timeout(self.platform_time())

    def request(self, pool: Pool, service: Sampler) -> Proc:
        """To the agency, queue, wait for the office to open, work in office hours, back."""
        env = self.env
        yield env.timeout(self.transport())
        with pool.clerks.request() as clerk:
            yield clerk
            if pool.hours is not None:
                opens = pool.hours.next_open(env.now)
                if opens > env.now:
                    yield env.timeout(opens - env.now)
                done = pool.hours.finish(env.now, service())
            else:
                done = env.now + service()
            yield env.timeout(done - env.now)
        yield env.timeout(self.transport())

    def done(self, started: float) -> None:
        self.latencies.append(self.env.now - started)


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("the scenario's start needs a time zone")
    return moment


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _step_time(flow: dict[str, Any], agencies: dict[str, Any], step: str, agency: str) -> dict:
    own = flow.get("steps", {}).get(step, {})
    return own.get("service_time") or own.get("duration") or agencies[agency]["service_time"]


# -- F03 ----------------------------------------------------------------------------------------


def run_f03(
    path: Path, duration_days: float, rate_per_day: float, server_factor: int, seed: int
) -> tuple[int, int, float]:
    """F03 as written for itself: police always, a bank for companies with an account, the
    housing fund for those with a unit account. Returns (cases, SimPy events, mean latency)."""
    scenario = load(path)
    for agency in scenario["agencies"].values():
        agency["servers"] *= server_factor
    window = duration_days * 86400.0
    drain = seconds(scenario.get("drain", "30d"))
    model = Model(scenario, math.ceil((window + drain) / 86400) + 1, seed)
    env, rng = model.env, model.rng
    population = scenario.get("population", {})
    weights = population.get("bank_account_weights", [0.05, 0.55, 0.3, 0.1])
    bank_share = 1.0 - weights[0] / sum(weights)
    fund_share = population.get("housing_fund_probability", 0.6)
    agencies = scenario["agencies"]
    police = (model.pools["police"], sampler(agencies["police"]["service_time"], rng))
    bank = (model.pools["bank"], sampler(agencies["bank"]["service_time"], rng))
    fund = (model.pools["housing-fund"], sampler(agencies["housing-fund"]["service_time"], rng))

    def case(intended: float) -> Proc:
        yield from model.to_platform()
        steps = [police]
        if rng.random() < bank_share:
            steps.append(bank)
        if rng.random() < fund_share:
            steps.append(fund)
        yield env.all_of([env.process(model.request(pool, draw)) for pool, draw in steps])
        model.done(intended)

    env.process(model.arrivals(rate_per_day / 86400.0, window, case))
    env.run(until=window + drain)
    return len(model.latencies), _processed(env), _mean(model.latencies)


# -- the district: every flow over shared agencies ----------------------------------------------


DISTRICT_FLOWS = ("F01", "F03", "F04", "F09", "F10", "F14", "F17")
"""The district's flows this model writes by hand; the benchmark runs govstream on these
alone and names the district's others as left out (`workloads.district_left_out`)."""


def run_district(path: Path, duration_days: float, seed: int) -> tuple[int, int, float]:
    """The district scenario's seven flows written by hand (`DISTRICT_FLOWS`), each as a
    function of its own.

    Simplified against govstream: which optional steps a case has is drawn as independent
    chances (the shares the flows' populations give, e.g. 30 % of connections ask for water),
    not from generated applications; nothing is ever rejected (the district scenario rejects
    nothing); and the plan's rules and targets are not evaluated. Steps, their order and joins,
    waits, desks, pools, calendars and service times are the scenario's.
    """
    scenario = load(path)
    window = duration_days * 86400.0
    drain = seconds(scenario.get("drain", "30d"))
    model = Model(scenario, math.ceil((window + drain) / 86400) + 1, seed)
    env, rng = model.env, model.rng
    flows, agencies = scenario["flows"], scenario["agencies"]
    pools = model.pools

    def step(flow_id: str, step_id: str, pool: str) -> Callable[[], Proc]:
        agency = pool.split("@")[0]
        draw = sampler(_step_time(flows[flow_id], agencies, step_id, agency), rng)
        chosen = pools[pool]
        return lambda: model.request(chosen, draw)

    def wait(flow_id: str, step_id: str) -> Callable[[], Proc]:
        draw = sampler(flows[flow_id]["steps"][step_id]["duration"], rng)

        def waiting() -> Proc:
            yield env.timeout(draw())

        return waiting

    def chain(*stages: Callable[[], Proc]) -> Proc:
        for stage in stages:
            yield env.process(stage())

    def both(*branches: Proc) -> simpy.Event:
        return env.all_of([env.process(branch) for branch in branches])

    def start(intended: float, body: Callable[[], Proc]) -> Proc:
        yield from model.to_platform()
        yield env.process(body())
        model.done(intended)

    f01 = {
        "bank": step("F01", "bank-reservation", "bank@F01"),
        "hrss": step("F01", "social-insurance", "hrss"),
        "tax": step("F01", "tax-registration", "tax"),
        "fund": step("F01", "housing-fund", "housing-fund"),
    }

    def f01_case() -> Proc:
        social = env.process(f01["hrss"]())
        yield env.process(f01["bank"]())
        later = [f01["tax"]()] + ([f01["fund"]()] if rng.random() < 0.73 else [])
        yield both(*later) & social

    f03 = [step("F03", s, s) for s in ("police", "bank", "housing-fund")]

    def f03_case() -> Proc:
        optional = zip(f03[1:], (0.95, 0.6), strict=True)
        chosen = [f03[0]] + [s for s, share in optional if rng.random() < share]
        yield both(*(s() for s in chosen))

    def utility(name: str, stages: tuple[str, ...]) -> list[Callable[[], Proc]]:
        return [step("F04", f"{name}-{stage}", name) for stage in stages]

    water = utility("water", ("acceptance", "design", "construction", "connection"))
    gas = utility("gas", ("acceptance", "design", "construction", "connection"))
    power_accept = step("F04", "power-acceptance", "power")
    filing = wait("F04", "power-excavation-filing")
    power_lv = step("F04", "power-connection-lv", "power")
    power_10kv = utility("power", ("supply-plan-10kv", "external-works-10kv", "connection-10kv"))

    def power() -> Proc:
        yield env.process(power_accept())
        if rng.random() < 0.06:
            yield env.process(chain(*power_10kv))
            return
        if rng.random() < 0.3:
            yield env.process(filing())
        yield env.process(power_lv())

    def f04_case() -> Proc:
        branches = []
        if rng.random() < 0.3:
            branches.append(chain(*water))
        if rng.random() < 0.85:
            branches.append(power())
        if rng.random() < 0.28:
            branches.append(chain(*gas))
        yield both(*branches)

    f09 = [step("F09", "tax-certificate", "tax@F09"), step("F09", "registration", "real-estate")]

    def f09_case() -> Proc:
        yield env.process(chain(*f09))

    f10 = [step("F10", s, s) for s in ("water", "power", "gas")]

    def f10_case() -> Proc:
        shares = (0.98, 0.99, 0.7)
        yield both(*(s() for s, p in zip(f10, shares, strict=True) if rng.random() < p))

    f14 = [step("F14", "relationship-transfer", "hrss"), step("F14", "benefit-approval", "hrss")]

    def f14_case() -> Proc:
        yield env.process(chain(*(f14 if rng.random() < 0.15 else f14[1:])))

    signing = step("F17", "contract-signing", "purchaser")
    filing17 = step("F17", "contract-filing", "finance-bureau")
    prepayment = step("F17", "prepayment", "finance-bureau")
    delivery, invoice = wait("F17", "delivery"), wait("F17", "invoice")
    acceptance = step("F17", "acceptance", "purchaser")
    application = step("F17", "payment-application", "purchaser")
    payment = step("F17", "payment", "finance-bureau")

    def f17_case() -> Proc:
        yield env.process(signing())
        side = [filing17()] + ([prepayment()] if rng.random() < 0.92 else [])
        main = chain(delivery, acceptance, invoice, application, payment)
        yield both(main, *side)

    bodies = {
        "F01": f01_case,
        "F03": f03_case,
        "F04": f04_case,
        "F09": f09_case,
        "F10": f10_case,
        "F14": f14_case,
        "F17": f17_case,
    }
    assert tuple(bodies) == DISTRICT_FLOWS
    for flow_id, body in bodies.items():
        arrivals = flows[flow_id]["arrivals"]

        def case(intended: float, body: Callable[[], Proc] = body) -> Proc:
            return start(intended, body)

        office = arrivals.get("hours") == "office"
        env.process(model.arrivals(per_second(arrivals["rate"]), window, case, office))
    env.run(until=window + drain)
    return len(model.latencies), _processed(env), _mean(model.latencies)


def _processed(env: simpy.Environment) -> int:
    """Events SimPy has taken off its queue: every scheduled event has an id from `_eid`."""
    return next(env._eid) - len(env._queue)  # type: ignore[attr-defined]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
