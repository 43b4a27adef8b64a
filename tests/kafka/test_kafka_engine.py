"""Every flow end to end on a real broker, the dead-letter path, and cross-engine agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from test_publication import expected_checks
from test_publication import scenario_of as one_record

from govstream.engines import RunSettings
from govstream.engines.kafka.app import app_id
from govstream.engines.kafka.engine import run_on_kafka
from govstream.engines.sim.engine import SimEngine
from govstream.pipeline.book import step_key
from govstream.result import RunResult
from govstream.scenario.loader import load_scenario, parse_scenario
from govstream.scenario.model import Scenario
from processors import FLOWS

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run_kafka(scenario: Scenario, bootstrap: str, tmp_path: Path, speedup: float):
    scenario = scenario.model_copy(
        update={"kafka": scenario.kafka.model_copy(update={"speedup": speedup})}
    )
    return run_on_kafka(scenario, RunSettings(bootstrap=bootstrap, work_dir=tmp_path))


def scenario_of(flow_id: str) -> Path:
    """The shipped scenario that studies this flow alone."""
    for path in SCENARIOS:
        if list(load_scenario(path).flows) == [flow_id]:
            return path
    raise AssertionError(f"no shipped scenario runs {flow_id} alone")


def shortened(path: Path, *overrides: str) -> Scenario:
    """A shipped scenario cut to a few hundred cases, every agency always open and able to
    keep up (about 10 busy clerks of 20 at most), waits of minutes, so it runs in seconds at a
    high speedup while still carrying every kind of case and every step its flows have."""
    scenario = load_scenario(path)
    quick = ["duration=4h", "drain=2d", "transport.latency={dist: constant, value: 0}"]
    for flow_id, settings in scenario.flows.items():
        quick.append(f"flows.{flow_id}.arrivals={{process: poisson, rate: 120/h}}")
        for step in FLOWS[flow_id].steps:
            if step.is_wait:
                quick.append(
                    f"flows.{flow_id}.steps.{step.id}.duration={{dist: exponential, mean: 10min}}"
                )
            elif step.id in settings.steps:
                quick.append(f"flows.{flow_id}.steps.{step.id}.service_time=null")
    for agency in scenario.agencies:
        quick += [
            f"agencies.{agency}.servers=20",
            f"agencies.{agency}.calendar=always",
            f"agencies.{agency}.outages=[]",
            f"agencies.{agency}.desks={{}}",
            f"agencies.{agency}.service_time={{dist: exponential, mean: 5min}}",
        ]
    return load_scenario(path, [*quick, *overrides])


def case_states_left(bootstrap: str, scenario: Scenario, run_id: str) -> list[str]:
    """The run's cases whose orchestrator state is still in the case table's changelog, read
    to its end: a case's state is deleted once its completion is on the brokers."""
    topic = f"{app_id(scenario)}-cases-changelog"
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        last: dict[bytes, bytes | None] = {}
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                last.update((record.key, record.value) for record in records)
    finally:
        consumer.close()
    left = [key.decode() for key, value in last.items() if value is not None]
    return [key for key in left if run_id in key]


def test_corrupt_triggers_go_to_the_dead_letter_topic(kafka_bootstrap: str, tmp_path: Path) -> None:
    scenario = shortened(
        ROOT / "scenarios" / "deregistration-fanout.yaml", "kafka.corrupt_fraction=0.1"
    )
    result = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=2000.0)
    corrupted = result.engine.options["corrupted_triggers_sent"]
    assert corrupted > 5
    assert result.counts.dead_lettered == corrupted
    reasons = result.dead_letters.by_reason
    assert set(reasons) == {"malformed-body", "unknown-schema", "not-single-object"}
    # the orchestrator kept running: every well-formed case still completed
    assert result.counts.cases_completed == result.counts.cases_started > 100
    assert result.counts.lost == 0
    # the worker's log is JSON lines, each with the run (its warm-up's, for start-up traffic),
    # and each dead letter's with its flow and case
    run_id = result.engine.options["run_id"]
    lines = [json.loads(line) for line in (tmp_path / "worker-0.log").read_text().splitlines()]
    assert lines and all(str(line.get("run_id", "")).startswith(run_id) for line in lines)
    assert all(line["role"] == "all" for line in lines)
    letters = [line for line in lines if line["event"] == "dead-lettered"]
    assert len(letters) == corrupted
    assert all(line["flow"] == "F03" and run_id in line["case_id"] for line in letters)


AGREEMENT_SCENARIO = """
name: cross-engine-agreement
flow: F03
seed: 7
duration: 12h
drain: 2d
arrivals: {process: poisson, rate: 150/h}
transport: {latency: {dist: constant, value: 0}}
platform: {servers: 64, service_time: {dist: constant, value: 0}}
agencies:
  police: {servers: 400, calendar: always, service_time: {dist: exponential, mean: 2h}}
  bank: {servers: 400, calendar: always, service_time: {dist: exponential, mean: 2h}}
  housing-fund: {servers: 400, calendar: always, service_time: {dist: exponential, mean: 2h}}
"""


def test_engines_agree_when_service_dominates(kafka_bootstrap: str, tmp_path: Path) -> None:
    """Service times (hours) dwarf the platform's transport (milliseconds × speedup = seconds),
    so both engines sample the same case-latency distribution. About 1,800 cases each keep
    the sampling error of p50 and p90 near 3 %, so 10 % is a real bound, not noise."""
    scenario = parse_scenario(AGREEMENT_SCENARIO)
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=1000.0)
    assert kafka.counts.cases_completed == kafka.counts.cases_started > 1500
    for stat in ("p50", "p90"):
        simulated = sim.latency["F03/case"][stat]
        measured = kafka.latency["F03/case"][stat]
        assert measured == pytest.approx(simulated, rel=0.10), stat


def test_a_short_staffed_agency_queues_as_on_the_sim_engine(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Four bank clerks for some 120 requests an hour that each take 5 minutes: the bank's
    queue grows by about 70 an hour for four hours, then drains. The wait must count as the
    agency's queue, scaled back to business time; counted as unscaled transport, it made the
    bank's mean answer 19 times too fast with six clerks.

    The bounds are a factor of two, not a percentage: the platform's own lag is real
    transport, and on a busy machine the orchestrator falls behind (at 2,000x, some 240
    messages a second, the bank's peak queue measured 36 against the sim engine's 285 at a
    load average of 14, the rest waiting upstream, unscaled). At 500x the platform keeps up
    with a quarter of that rate; a factor of two still fails the unscaled counting this test
    was written for by a factor of ten."""
    scenario = shortened(
        ROOT / "scenarios" / "deregistration-fanout.yaml", "agencies.bank.servers=4"
    )
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=500.0)
    assert kafka.counts.cases_completed == kafka.counts.cases_started
    assert sim.agencies["bank"].max_queue > 200
    simulated_peak = sim.agencies["bank"].max_queue
    assert simulated_peak / 2 < kafka.agencies["bank"].max_queue < simulated_peak * 2
    for name in ("wait:bank", "F03/acted:bank", "F03/case"):
        simulated = sim.latency[name]["mean"]
        assert simulated / 2 < kafka.latency[name]["mean"] < simulated * 2, name
    assert kafka.agencies["police"].max_queue < kafka.agencies["bank"].max_queue / 4
    assert all(load.queue_at_end == 0 for load in kafka.agencies.values())


def test_office_hours_and_an_outage_mean_the_same_on_both_engines(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The shipped outage study, cut to three days with the bank down on the second. Office
    hours, the Chinese calendar and the outage dominate every latency, so on an idle machine
    the engines agree closely (about 2 % on p90 and 10 % on the means over 129 cases). At
    20,000x a second of platform lag is five and a half business hours, which on a busy
    machine moves work across closing times (measured: a mean 2.2x the sim engine's at a load
    average of 17), so the bounds are a factor, wide enough for that and still far from an
    agency that ignores its calendar or its outage. Start-up traffic must pass the agencies
    without touching their calendars, or no case completes."""
    scenario = load_scenario(
        ROOT / "scenarios" / "deregistration-bank-outage.yaml",
        ["duration=3d", "agencies.bank.outages=[{start: 1d, end: 2d}]"],
    )
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=20000.0)
    assert kafka.counts.cases_completed == kafka.counts.cases_started == sim.counts.cases_started
    assert kafka.counts.dead_lettered == 0
    simulated_peak = sim.agencies["bank"].max_queue
    assert simulated_peak / 2 < kafka.agencies["bank"].max_queue < simulated_peak * 2
    assert kafka.agencies["bank"].outages == sim.agencies["bank"].outages
    for name in ("F03/acted:bank", "F03/acted:police", "F03/case"):
        simulated = sim.latency[name]["mean"]
        assert simulated / 3 < kafka.latency[name]["mean"] < simulated * 3, name
    # the outage holds the bank's answers back a working day, whatever the machine's load:
    # 2.8x the police's mean on the sim engine, against 1.14x without the outage
    acted = kafka.latency
    assert acted["F03/acted:bank"]["mean"] > 1.8 * acted["F03/acted:police"]["mean"]
    # and the books say so on both: the bank's slowest tenth spent most of its time waiting out
    # the outage (64 % on the sim engine), its parts adding up to its latency
    for result in (sim, kafka):
        slowest = result.breakdowns["F03/acted:bank"]
        assert sum(slowest.parts.values()) == pytest.approx(slowest.seconds), result.engine.name
        assert next(iter(slowest.parts)) == "outage:bank", (result.engine.name, slowest.parts)


def test_engines_agree_on_a_chain_with_waits(kafka_bootstrap: str, tmp_path: Path) -> None:
    """F17's procurement chain: eight steps in sequence and in parallel, two of them waits on
    the supplier, every agency always open with clerks to spare (about 250 of 400 busy at the
    peak). Business time on Kafka is rebuilt hop by hop along each case's path (real transport
    plus scaled agency and wait time), so the case and the plan's stage spans must come out as
    on the sim engine. Some 1,900 cases keep the sampling error of p50 and p90 near 4 %, so 10 %
    is a real bound below; above it, the platform's measured hops, scaled by 20,000, add minutes
    to spans of hours."""
    steps = {
        "contract-signing": "service_time={dist: exponential, mean: 4h}",
        "contract-filing": "service_time={dist: exponential, mean: 1h}",
        "prepayment": "service_time={dist: exponential, mean: 1h}",
        "delivery": "duration={dist: lognormal, median: 2d, p95: 6d}",
        "acceptance": "service_time={dist: exponential, mean: 2h}",
        "invoice": "duration={dist: exponential, mean: 1d}",
        "payment-application": "service_time={dist: exponential, mean: 1h}",
        "payment": "service_time={dist: exponential, mean: 1h}",
    }
    scenario = load_scenario(
        scenario_of("F17"),
        [
            "duration=2d",
            "drain=60d",
            "flows.F17.arrivals={process: poisson, rate: 40/h}",
            *(f"flows.F17.steps.{step}.{setting}" for step, setting in steps.items()),
            "transport.latency={dist: constant, value: 0}",
            "platform={servers: 64, service_time: {dist: constant, value: 0}}",
            "agencies.purchaser={servers: 400, calendar: always}",
            "agencies.finance-bureau={servers: 400, calendar: always}",
            "targets=[]",
        ],
    )
    speedup = 20_000.0
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=speedup)
    assert kafka.counts.cases_completed == kafka.counts.cases_started > 1500
    assert kafka.counts.lost == 0
    # The platform's own time is real and scaled up with the rest: each hop a case crosses adds
    # its wall time times the speedup, more on a busy machine. The bound above the sim's figure
    # is the hops on the path at the slowest hop's measured p90, never a fixed window.
    moves = ("trigger-to-orchestrator", "orchestrator-to-agency", "outcome-return")
    slowest = max(kafka.platform_ms[f"hop:{name}"]["p90"] for name in moves)
    late = kafka.platform_ms.get("hop:agency-overshoot", {}).get("p90", 0.0)  # clerks woke late
    per_hop = (slowest + late) / 1000 * speedup
    hops = {
        "F17/case": 15,  # the trigger, then seven steps in sequence, each out and back
        "F17/span:award-to-contract": 3,  # the trigger, then contract-signing
        "F17/span:completion-to-acceptance": 2,  # acceptance
        "F17/span:invoice-to-payment": 4,  # payment-application, then payment
    }
    agree(sim, kafka, hops, per_hop)


def agree(sim: RunResult, kafka: RunResult, hops: dict[str, int], per_hop: float) -> None:
    """p50 and p90 of each latency as on the sim engine: at least 90 % of it, and at most 110 %
    plus the hops the path crossed at the platform's slowest measured hop."""
    for name, crossed in hops.items():
        for stat in ("p50", "p90"):
            simulated = sim.latency[name][stat]
            measured = kafka.latency[name][stat]
            low, high = 0.90 * simulated, 1.10 * simulated + crossed * per_hop
            assert low <= measured <= high, (name, stat, measured, simulated, per_hop)


def district(*overrides: str) -> Scenario:
    """The district, every flow over its shared pools and desks, cut to a day's arrivals:
    offices, calendars and desks as they are, the hours-long stages and waits of F04 to F08,
    F11, F12 and F15 to F21 cut to minutes (F04 and F17 at four times their load, F08 at five,
    F12 at 2.5 times, F16 at 12 times, so that a day has some of each, and F11 at a tenth;
    F12's repairs in minutes, not months, and F05's and F06's deadlines racing the answers), and
    F02's waits of days and months for the company as well, so that every case closes within
    days, and every agency refusing some requests, so that steps after a refusal are
    cancelled. F13 scores its signals over fewer entities, so that a day of them crosses the
    threshold. F15 and F16 hand cases over to F19 and F03, and every F01 establishment starts
    an F02 case at its trigger. F01's 实时 is measured on the platform's own wall clock, which
    at 20,000x carries a day's load in four seconds: a day of the district is what one worker
    on two cores keeps near real time."""
    # F12's checks are left out: whether one falls between a retraction and the drop is a
    # matter of the platform's own milliseconds at 20,000x; its own test counts exposures.
    quick = ["duration=1d", "drain=30d", "flows.F12.checks={}"]
    minutes = "{dist: exponential, mean: 20min}"
    for flow_id, rate in (
        ("F04", 40),
        ("F05", None),
        ("F06", None),
        ("F07", None),
        ("F08", 10),
        ("F11", 60),
        ("F12", 5),
        ("F15", 5),
        ("F16", 5),
        ("F17", 40),
        ("F18", None),
        ("F19", 5),
        ("F20", None),
        ("F21", None),
    ):
        if rate is not None:
            quick.append(f"flows.{flow_id}.arrivals.rate={rate}/d")
        for step in FLOWS[flow_id].steps:
            kind = "duration" if step.is_wait else "service_time"
            quick.append(f"flows.{flow_id}.steps.{step.id}.{kind}={minutes}")
    quick += [f"flows.F02.steps.{step.id}.duration={minutes}" for step in FLOWS["F02"].waits]
    for agency in load_scenario(ROOT / "scenarios" / "district-2021.yaml").agencies:
        quick.append(f"agencies.{agency}.reject_probability=0.2")
    # F13's scores over 200 entities, with a threshold of 5, cross several times a day.
    # Its tumbling windows cross the same number of times in whatever order Kafka hands an
    # entity's signals over, but a case is named after the signal that crossed, and where two
    # of an entity's signals come the other way round it may be another: F13's own steps keep
    # from refusing, so that no draw depends on which.
    quick += ["flows.F13.population.population_size=200", "flows.F13.threshold=5"]
    for step in FLOWS["F13"].steps:
        quick += [
            f"flows.F13.steps.{step.id}.service_time={minutes}",
            f"flows.F13.steps.{step.id}.reject_probability=0",
        ]
    return load_scenario(ROOT / "scenarios" / "district-2021.yaml", [*quick, *overrides])


SPEEDUPS = (2_000.0, 20_000.0)

HANDOVER_SCENARIO = """
name: hand-over-agreement
seed: 11
duration: 1d
drain: 10d
flows:
  F15:
    arrivals: {process: poisson, rate: 12/h}
    population: {enforcement_probability: 1.0}
    steps:
      effective-status: {service_time: {dist: exponential, mean: 1h}}
      electronic-service: {service_time: {dist: exponential, mean: 1h}}
      enforcement-filing: {service_time: {dist: exponential, mean: 2h}}
  F19:
    steps:
      bank-freeze:
        service_time: {dist: exponential, mean: 2h}
        join: {at_least: 2}
      property-freeze: {service_time: {dist: exponential, mean: 2h}}
      disposal-preparation: {service_time: {dist: exponential, mean: 1h}}
      first-auction: {duration: {dist: exponential, mean: 1h}}
      second-auction: {duration: {dist: exponential, mean: 1h}}
  F16:
    arrivals: {process: poisson, rate: 12/h}
    steps:
      register-notice: {service_time: {dist: exponential, mean: 1h}}
      tax-handling: {service_time: {dist: exponential, mean: 3h}}
      credit-repair: {service_time: {dist: exponential, mean: 1h}}
      insurance-transfer: {service_time: {dist: exponential, mean: 2h}}
      bank-notice: {service_time: {dist: exponential, mean: 2h}}
      deregistration: {service_time: {dist: exponential, mean: 1h}}
  F03:
    steps:
      police: {service_time: {dist: exponential, mean: 1h}}
      bank: {service_time: {dist: exponential, mean: 2h}}
      housing-fund: {service_time: {dist: exponential, mean: 1h}}
  F01:
    arrivals: {process: poisson, rate: 6/h}
    steps:
      bank-reservation: {service_time: {dist: exponential, mean: 1min}}
      social-insurance: {service_time: {dist: exponential, mean: 1h}}
      tax-registration: {service_time: {dist: exponential, mean: 1h}}
      housing-fund: {service_time: {dist: exponential, mean: 1h}}
  F02:
    steps:
      issue: {service_time: {dist: exponential, mean: 1h}}
      first-deposit: {duration: {dist: exponential, mean: 2h}}
      deposit-acceptance: {service_time: {dist: exponential, mean: 1h}}
      account-visit: {duration: {dist: exponential, mean: 2h}}
      account-opening: {service_time: {dist: exponential, mean: 1h}}
      mortgage-application: {duration: {dist: exponential, mean: 2h}}
      mortgage-acceptance: {service_time: {dist: exponential, mean: 1h}}
transport: {latency: {dist: constant, value: 0}}
platform: {servers: 64, service_time: {dist: constant, value: 0}}
agencies:
  court: {servers: 800, calendar: always}
  bank: {servers: 800, calendar: always}
  real-estate: {servers: 800, calendar: always}
  amr: {servers: 800, calendar: always}
  tax: {servers: 800, calendar: always}
  drc: {servers: 800, calendar: always}
  hrss: {servers: 800, calendar: always}
  police: {servers: 800, calendar: always}
  housing-fund: {servers: 800, calendar: always}
"""


def test_engines_agree_across_hand_overs(kafka_bootstrap: str, tmp_path: Path) -> None:
    """F15 hands every filed judgment to F19, F16 every liquidation to F03 and F01 every
    establishment, as it opens, to F02, which have no arrivals of their own: on Kafka each
    hand-over is a trigger the platform writes on the other flow's source topic, and F02's
    carries the establishment's own clock. Agencies are always open with clerks to spare and
    the draws are keyed by case, step and item, so both engines sample the same durations: the
    spans across the hand-overs, the e-licence's from the establishment, a join of two banks'
    freezes (answers reach Kafka's orchestrator in wall order, the join must still fall at the
    second on the business clock), and the cases the hand-overs started must come out as on
    the sim engine, within 10 % below and the platform's measured hops above.
    Some 290 cases of F15 and F16 and 140 of F01 at 2,000x keep the platform ahead of its
    load; with the same draws on both engines, they are enough (measured: within 0.5 % where
    both engines completed every case)."""
    scenario = parse_scenario(HANDOVER_SCENARIO)
    speedup = 2_000.0
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=speedup)
    c = kafka.counts
    assert c.cases_completed == c.cases_started == sim.counts.cases_started
    assert c.lost == 0 and c.requests_emitted == c.outcomes_recorded
    for flow_id in ("F15", "F16", "F19", "F03", "F01", "F02"):
        assert kafka.flow_counts[flow_id].cases_started == sim.flow_counts[flow_id].cases_started
    # every filed judgment started an enforcement case; most liquidations a deregistration;
    # every establishment its e-licence
    assert kafka.flow_counts["F19"].cases_started == kafka.flow_counts["F15"].cases_started > 200
    assert kafka.flow_counts["F03"].cases_started > kafka.flow_counts["F16"].cases_started / 2
    assert kafka.flow_counts["F02"].cases_started == kafka.flow_counts["F01"].cases_started > 100
    moves = ("trigger-to-orchestrator", "orchestrator-to-agency", "outcome-return")
    slowest = max(kafka.platform_ms[f"hop:{name}"]["p90"] for name in moves)
    late = kafka.platform_ms.get("hop:agency-overshoot", {}).get("p90", 0.0)
    per_hop = (slowest + late) / 1000 * speedup
    hops = {
        "F15/span:judgment-to-freeze": 8,  # trigger, status, filing, hand-over, a bank's freeze
        "F19/span:search-and-freeze": 3,  # the hand-over's trigger, then two banks' freezes
        "F16/span:ruling-to-accounts-closed": 8,  # trigger, tax, deregistration, hand-over, bank
        "F03/case": 3,  # the hand-over's trigger, then the slowest closure
        "F02/span:establishment-to-issued": 4,  # F01's trigger, the hand-over's, the issuance
        "F02/span:issued-to-account": 4,  # the wait for the company, then the bank's
    }
    agree(sim, kafka, hops, per_hop)


def test_a_retracted_record_found_on_kafka_is_an_exposure_as_on_sim(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """F12's one record about one entity (`tests/test_publication.py`): published once on its
    compacted topic into each subscriber's faust table, retracted with a tombstone, the bank
    dropping it 4 h after the retraction; the bank checks the entity on the hour, against its
    table, on a topic partitioned like the records. The edges fall on the half hour, 500 ms of
    wall time from any check at 3,600x, where the platform's hops take milliseconds: on Kafka as
    on the sim engine, the checks that found the record and the exposures are the hand-counted
    ones, the record's one case completes and the one entity adopting the credit code is
    counted once however often it is seen."""
    scenario = one_record()
    checks, found, exposures = expected_checks(scenario)
    assert (found, exposures) == (5, 4)
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=3_600.0)
    for result in (sim, kafka):
        bank = result.exposures["F12"]["bank"]
        assert (bank.checks, bank.found, bank.exposures) == (checks, found, exposures)
        assert result.counts.cases_completed == result.counts.cases_started == 1
        assert result.counts.lost == 0
        assert result.tallies["F12"]["credit-code-adopters"].counted == 1
        gone = result.latency["F12/span:retraction-gone-at-bank"]["max"]
        assert gone == pytest.approx(4 * 3600, rel=0.01)
    assert kafka.counts.dead_lettered == 0


@pytest.fixture(scope="module")
def district_runs(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RunResult]:
    """The district on the sim engine, and on Kafka at two speedups ten times apart (each
    run's work directory, with its workers' logs, kept as `WORK_OF`)."""
    scenario = district()
    runs = {"sim": SimEngine(scenario).run()}
    for speedup in SPEEDUPS:
        work = tmp_path_factory.mktemp(f"district-{speedup:g}")
        runs[f"{speedup:g}"] = result = run_kafka(scenario, kafka_bootstrap, work, speedup=speedup)
        WORK_OF[result.engine.options["run_id"]] = work
    return runs


WORK_OF: dict[str, Path] = {}
"""A Kafka run's work directory, by run id."""

READ_AGAIN = (
    "partition stalled: reading it again from its committed offset",
    "requests nobody answered sent again",
    "table recovery stalled: rejoining the group to start it again",
)
"""What a worker logs when it reads or sends again what it may have handled already."""


def read_again(result: RunResult) -> list[str]:
    """The events of a Kafka run's workers after which an answer may come twice."""
    work = WORK_OF[result.engine.options["run_id"]]
    return [
        event
        for log in sorted(work.glob("worker-*.log"))
        for line in log.read_text().splitlines()
        if (event := json.loads(line).get("event")) in READ_AGAIN
    ]


def test_every_flow_runs_with_refusals_and_both_engines_keep_the_same_books(
    district_runs: dict[str, RunResult], kafka_bootstrap: str
) -> None:
    """Every flow at once, every agency refusing some requests: on each engine nothing is
    lost, every identity of the books holds and cancelled steps are counted as cancelled. The
    draws are made per case and step, so the engines agree exactly on everything the
    platform's own timing cannot change: cases, requests, steps skipped by the data,
    rejections and the steps they cancelled."""
    sim = district_runs["sim"]
    assert set(sim.flow_ids) == set(FLOWS)
    for name, result in district_runs.items():
        c = result.counts
        assert c.cases_started > 40, name
        assert c.cases_completed == c.cases_started, name
        assert c.lost == 0 and c.requests_in_flight == 0, name
        assert c.requests_emitted == c.outcomes_recorded, name
        assert c.refused == 0, name
        # At least once: an answer comes twice only after a worker read or sent again what it
        # may have handled (a stalled partition on a busy machine), and the books drop it.
        if c.duplicates:
            assert read_again(result), (name, c.duplicates, "answered twice, nothing read again")
        assert [check.identity for check in result.books if not check.holds] == [], name
        assert c.steps_cancelled > 0 and c.cases_rejected > 0, name
        for flow_id in result.flow_ids:
            mine, theirs = result.flow_counts[flow_id], sim.flow_counts[flow_id]
            for field in (
                "cases_started",
                "steps_skipped",
                "requests_emitted",
                "steps_cancelled",
                "cases_rejected",
            ):
                assert getattr(mine, field) == getattr(theirs, field), (name, flow_id, field)
        assert {n: a.requests for n, a in result.agencies.items()} == {
            n: a.requests for n, a in sim.agencies.items()
        }, name
    for speedup in SPEEDUPS:
        result = district_runs[f"{speedup:g}"]
        # No case's state outlives it, so the workers' table does not grow with the run.
        scenario = district()
        assert case_states_left(kafka_bootstrap, scenario, result.engine.options["run_id"]) == []
        # Every answer carried its delivery, measured on the platform as well (for a step done
        # per item, each item's: the step's own answer is the join of them).
        for flow_id in result.flow_ids:
            for step in FLOWS[flow_id].steps:
                if step.is_wait:
                    continue
                names = [f"{flow_id}/acted:{step.id}"]
                if step.each is not None:
                    names = [n for n in result.latency if n.startswith(f"{names[0]}@")]
                for name in names:
                    acted = result.latency.get(name, {"count": 0})["count"]
                    delivered = name.replace("/acted:", "/delivered:")
                    assert not acted or result.platform_ms[delivered]["count"] == acted
        assert {"hop:trigger-to-orchestrator", "hop:orchestrator-to-agency"} <= set(
            result.platform_ms
        )


def test_verdicts_do_not_depend_on_the_speedup(district_runs: dict[str, RunResult]) -> None:
    """At 2,000x and at 20,000x every target has the sim engine's verdict, or is undecided
    and says why and at what speedup it could be decided: never a miss the platform's own
    milliseconds made. The bank's own system reserves F01's account numbers with 16 clerks
    that are hardly ever all busy: its wait stays the sim engine's, near nothing, give or take
    what the run measured its order of requests could move it by (a busy machine delays some
    requests past later ones by a second's jitter times the speedup)."""
    sim = district_runs["sim"]
    expected = {(v.flow, v.id, v.step): v.verdict for v in sim.targets}
    assert "missed" in expected.values() and "met" in expected.values()
    for speedup in SPEEDUPS:
        result = district_runs[f"{speedup:g}"]
        for verdict in result.targets:
            on_sim = expected[verdict.flow, verdict.id, verdict.step]
            if verdict.verdict == on_sim:
                continue
            assert verdict.verdict == "undecided", (speedup, on_sim, verdict)
            assert verdict.reason and f"speedup {speedup:g}" in verdict.reason, verdict
        for desk in ("bank@F01", "tax@F09"):
            agency, flow_id = desk.split("@")
            off = max(
                result.resolution.get(step_key(flow_id, "acted", step.id), 0.0)
                for step in FLOWS[flow_id].steps_of(agency)
            )
            waited = result.latency[f"wait:{desk}"]
            on_sim = sim.latency[f"wait:{desk}"]
            assert waited["p99"] <= on_sim["p99"] + 1.0 + off, (speedup, desk, off, waited, on_sim)


def test_the_time_series_agree_with_the_sim_engine(kafka_bootstrap: str, tmp_path: Path) -> None:
    """The outage study cut to three days, the bank down on the second. Both engines fill the
    same fixed bins: the arrivals come from the same schedule, so they match bin for bin;
    on Kafka the queue and busy levels are rebuilt from the marks each answer carries, so
    their time integrals are the pool's summed wait and service exactly. The bank's backlog in
    the outage is the overnight and outage arrivals (the same on both engines) waiting for
    opening, so its mean agrees closely; the service draws differ, hence 20 %."""
    scenario = load_scenario(
        ROOT / "scenarios" / "deregistration-bank-outage.yaml",
        ["duration=3d", "agencies.bank.outages=[{start: 1d, end: 2d}]"],
    )
    sim = SimEngine(scenario).run()
    kafka = run_kafka(scenario, kafka_bootstrap, tmp_path, speedup=20000.0)
    assert kafka.counts.cases_completed == kafka.counts.cases_started
    a, b = sim.series, kafka.series
    assert a is not None and b is not None
    arrived = zip(a.counts["F03/arrivals"], b.counts["F03/arrivals"], strict=False)
    assert sum(b.counts["F03/arrivals"]) == sum(a.counts["F03/arrivals"])
    # the same arrivals in the same bins (one may fall across a boundary by a rounding)
    assert sum(abs(x - y) for x, y in arrived) <= 2
    assert sum(b.counts["F03/completions"]) == kafka.counts.cases_completed
    assert b.levels["F03/open"][-1] == 0
    assert b.windows == a.windows
    for pool in kafka.agencies:
        for level, latency in (("queue", "wait"), ("busy", "service-elapsed")):
            summary = kafka.latency[f"{latency}:{pool}"]
            values = b.levels[f"{level}:{pool}"]
            spans = [
                min(b.bin_seconds, kafka.business_seconds - i * b.bin_seconds)
                for i in range(b.bins)
            ]
            integral = sum(v * s for v, s in zip(values, spans, strict=True))
            assert integral == pytest.approx(summary["mean"] * summary["count"], rel=1e-4)
    (window,) = b.windows["bank"]

    def outage_mean(series) -> float:  # type: ignore[no-untyped-def]
        width = series.bin_seconds
        inside = [
            q
            for i, q in enumerate(series.levels["queue:bank"])
            if window.start <= i * width and (i + 1) * width <= window.end
        ]
        return sum(inside) / len(inside)

    assert outage_mean(a) > 20
    assert outage_mean(b) == pytest.approx(outage_mean(a), rel=0.2)
