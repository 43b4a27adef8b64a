"""How much load the kafka engine carries on one broker, against a bare relay measured alongside.

    python benchmarks/kafka_throughput.py [--bootstrap HOST:PORT] [--rates 20,50,100,200,400]
                                          [--seconds 20] [--grace 1] [--drain 10] [--warmup 5]

Without --bootstrap a temporary single-node KRaft cluster is started on free loopback ports and
stopped at the end. For each rate R (triggers per wall-clock second), in turn:

- govstream: the F03 deregistration flow through `run_on_kafka` (open-loop generator, one faust
  worker process running fan-out, the three agency endpoints and the case tracker, collector)
  with speedup 1, so business time is wall time; arrivals at a constant R per second for
  --seconds; agencies always open, constant service time 0 and transport 0, so that what is
  measured is the platform (Kafka hops, codec, faust, case state), not the simulated clerks.
- relay: the least any Kafka fan-out can cost. An open-loop emitter in this process sends R
  messages per second (the bytes of one real CompanyDeregistered trigger, encoded once, with its
  intended emit time in a header) to `bench.relay-in`; a relay in a separate process (as the
  faust worker is) consumes them with kafka-python and produces each to `bench.relay-out-1..3`;
  a consumer thread in this process sees each output. Latency is "seen on all three outputs"
  minus the intended emit time, on this process's clock.

What is reported per rate and workload:

- emit/s: messages emitted / wall seconds between the first and the last emit; the generators
  are open-loop, so this stays near R unless the emitting process itself falls behind;
- done/s: cases (relayed messages) finished within the emission window / the same seconds;
- p50/p99: govstream's `case` latency (intended emit → case completion seen by the collector)
  and the relay's "all three outputs seen", in ms; both count from the intended emit time;
- backlog: emitted cases not finished by the last emit + --grace seconds, a count and a share of
  those emitted. A workload sustains a rate when p99 < 100 ms and backlog <= 2 %;
- steady p50/p99: the same latency for the cases intended after the first --warmup seconds,
  taken from the final record's producer timestamp, so that the start-up of freshly started
  clients (connections, metadata, first fetches) is told apart from what the rate costs.

The two paths differ in depth: a govstream case crosses Kafka four times (trigger → fan-out →
request → endpoint → outcome → tracker → completion → collector), the relay twice. The ratios
are the price of the whole platform against the least a one-hop fan-out can cost.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from govstream.engines.kafka.tail import TopicTail
from govstream.metrics import RecorderSet

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "deregistration-fanout.yaml"
SPEEDUP = 1.0
AGENCY_SERVERS = 4

RELAY_IN = "bench.relay-in"
RELAY_OUT = ("bench.relay-out-1", "bench.relay-out-2", "bench.relay-out-3")
RELAY_PARTITIONS = 6  # as many as the F03 trigger topic in schemas/catalog.yaml
INTENDED_HEADER = "bench_intended"
STEP_HEADER = "bench_step"

START_DELAY_SECONDS = 1.0  # as the kafka engine: time for the consumers to settle
P99_LIMIT_MS = 100.0
BACKLOG_LIMIT = 0.02
READY_TIMEOUT_SECONDS = 60.0
READ_TIMEOUT_SECONDS = 30.0
GOVSTREAM_DETAIL = (
    "F03/acted:police",
    "hop:trigger-to-orchestrator",
    "hop:at-orchestrator",
    "hop:orchestrator-to-agency",
    "hop:at-agency",
    "hop:outcome-return",
)
"""The collector's platform latencies shown per rate, to see which hop a slow rate waits in."""


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """p50/p99 in ms of the cases whose intended emit came after the warm-up."""

    count: int
    p50_ms: float
    p99_ms: float


def steady_latency(samples: Sequence[tuple[float, float]], warmup: float) -> Latency:
    """Percentiles of (seconds after t0, latency in seconds) pairs past `warmup` seconds.

    A run's first second pays for connections, metadata and the first fetches of freshly
    started clients; this separates that start-up cost from what the rate itself costs.
    """
    from govstream.metrics import LatencyRecorder

    recorder = LatencyRecorder()
    for at, latency in samples:
        if at >= warmup:
            recorder.record(max(0.0, latency))
    summary = recorder.summary()
    if not summary.count:
        return Latency(0, float("nan"), float("nan"))
    return Latency(summary.count, summary.p50 * 1000, summary.p99 * 1000)


@dataclass(frozen=True)
class Window:
    """How a workload kept up during its emission window, from emit and finish timestamps."""

    emitted: int
    emit_seconds: float
    done_in_window: int
    backlog: int

    @property
    def emit_rate(self) -> float:
        return (self.emitted - 1) / self.emit_seconds if self.emit_seconds > 0 else 0.0

    @property
    def done_rate(self) -> float:
        return self.done_in_window / self.emit_seconds if self.emit_seconds > 0 else 0.0

    @property
    def backlog_share(self) -> float:
        return self.backlog / self.emitted if self.emitted else 1.0


@dataclass(frozen=True)
class Step:
    """One workload at one rate."""

    workload: str
    rate: float
    window: Window
    p50_ms: float
    p99_ms: float
    steady: Latency
    behind_ms: float
    unfinished: int
    """Cases still open when the run stopped waiting (after --drain); their latency is missing."""
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def no_backlog(self) -> bool:
        return self.window.backlog_share <= BACKLOG_LIMIT

    @property
    def sustainable(self) -> bool:
        return self.no_backlog and self.p99_ms < P99_LIMIT_MS and self.window.emitted > 0

    @property
    def sustainable_steady(self) -> bool:
        return self.no_backlog and self.steady.p99_ms < P99_LIMIT_MS and self.window.emitted > 0


def window_of(emits: Sequence[float], finishes: Sequence[float], grace: float) -> Window:
    """Emit rate, finish rate and the backlog left `grace` seconds after the last emit.

    Both lists are wall-clock epoch seconds on this machine; `finishes` has one entry per
    finished case, in any order.
    """
    if not emits:
        return Window(0, 0.0, 0, 0)
    first, last = min(emits), max(emits)
    done_in_window = sum(1 for t in finishes if first <= t <= last)
    done_by_grace = sum(1 for t in finishes if t <= last + grace)
    return Window(len(emits), last - first, done_in_window, len(emits) - done_by_grace)


# -- Kafka plumbing shared by both workloads ---------------------------------------------------


@contextlib.contextmanager
def cluster(bootstrap: str | None) -> Iterator[str]:
    """The given cluster, or a temporary single-node one stopped when the block ends."""
    if bootstrap:
        yield bootstrap
        return
    from govstream.broker import temporary_cluster

    print("starting a temporary single-node Kafka cluster ...", file=sys.stderr, flush=True)
    with temporary_cluster(1) as info:
        yield info.bootstrap


def topic_ends(bootstrap: str, topics: Sequence[str]) -> dict[Any, int]:
    """Current end offset of every partition of `topics`: where this step's records start."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), client_id="bench-marks")
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def records_since(bootstrap: str, starts: dict[Any, int], topic: str) -> list[Any]:
    """Every record of `topic` written after `starts`, read once the step is over."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        client_id="bench-reader",
        enable_auto_commit=False,
        group_id=None,
    )
    try:
        partitions = [tp for tp in starts if tp.topic == topic]
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        records: list[Any] = []
        deadline = time.monotonic() + READ_TIMEOUT_SECONDS
        while time.monotonic() < deadline and any(
            consumer.position(tp) < ends[tp] for tp in partitions
        ):
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def create_relay_topics(bootstrap: str) -> None:
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from govstream.engines.kafka.topics import admin_client

    admin = admin_client(bootstrap)
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name, RELAY_PARTITIONS, 1)
            for name in (RELAY_IN, *RELAY_OUT)
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing, timeout_ms=30_000)
    finally:
        admin.close()


# -- govstream ---------------------------------------------------------------------------------


def scenario_overrides(
    rate: float, seconds: float, drain: float = 1.0, workers: int = 1
) -> list[str]:
    """F03 at a constant `rate` per wall second, with agencies that never hold a case up."""
    overrides = [
        f"duration={seconds}s",
        f"drain={drain * SPEEDUP}s",
        "arrivals.process=constant",
        f"arrivals.rate={rate * SPEEDUP}/s",
        "arrivals.bursts=[]",
        "transport.latency={dist: constant, value: 0}",
        f"kafka.speedup={SPEEDUP}",
        f"kafka.workers={workers}",
    ]
    for agency in ("police", "bank", "housing-fund"):
        overrides += [
            f"agencies.{agency}.servers={AGENCY_SERVERS}",
            f"agencies.{agency}.calendar=always",
            f"agencies.{agency}.outages=[]",
            f"agencies.{agency}.service_time={{dist: constant, value: 0}}",
        ]
    return overrides


def completion_samples(completions: Sequence[Any], run_id: str | None) -> list[tuple[float, float]]:
    """(seconds after t0, intended emit → completion written) of each completed case.

    The completion's record timestamp is set by the worker's producer on this machine, so it
    is on the same clock as the intended time the generator wrote in the trace headers.
    """
    from govstream.engines.kafka import headers as h

    samples = []
    for record in completions:
        trace = h.read(record.headers)
        intended, t0 = h.mark(trace, h.INTENDED), h.mark(trace, h.T0)
        if trace.get(h.RUN) == run_id and intended is not None and t0 is not None:
            samples.append((intended - t0, record.timestamp / 1000 - intended))
    return samples


def run_govstream(
    bootstrap: str,
    rate: float,
    seconds: float,
    grace: float,
    drain: float,
    warmup: float,
    workers: int = 1,
) -> Step:
    from govstream.contracts.catalog import load_catalog
    from govstream.engines import RunSettings
    from govstream.engines.kafka import engine
    from govstream.engines.kafka import headers as h
    from govstream.engines.kafka.app import scenario_topics
    from govstream.engines.kafka.topics import admin_client, ensure_topics
    from govstream.scenario.loader import load_scenario
    from processors import FLOWS

    overrides = scenario_overrides(rate, seconds, drain, workers)
    scenario = load_scenario(SCENARIO, overrides)
    flow = FLOWS["F03"]
    admin = admin_client(bootstrap)
    try:
        ensure_topics(admin, load_catalog(), scenario_topics(scenario))
    finally:
        admin.close()
    starts = topic_ends(bootstrap, [flow.source_topic, flow.completed_topic])
    result = engine.run_on_kafka(
        scenario,
        RunSettings(scenario_file=str(SCENARIO), overrides=tuple(overrides), bootstrap=bootstrap),
    )
    skipped = int(result.engine.options.get("stale_messages_skipped", 0))
    triggers = records_since(bootstrap, starts, flow.source_topic)
    runs = Counter(h.read(r.headers).get(h.RUN) for r in triggers)
    run_id = runs.most_common(1)[0][0] if runs else None
    emits = [r.timestamp / 1000 for r in triggers if h.read(r.headers).get(h.RUN) == run_id]
    completions = records_since(bootstrap, starts, flow.completed_topic)
    finishes = [r.timestamp / 1000 for r in completions if h.read(r.headers).get(h.RUN) == run_id]
    platform = result.platform_ms
    case = platform.get("F03/case", {})
    detail = {"skipped_leftovers": float(skipped), "cases": float(result.counts.cases_started)}
    for name in GOVSTREAM_DETAIL:
        for stat in ("p50", "p99"):
            detail[f"{name} {stat}"] = float(platform.get(name, {}).get(stat, float("nan")))
    return Step(
        workload="govstream" if workers == 1 else f"govstream, {workers} workers",
        rate=rate,
        window=window_of(emits, finishes, grace),
        p50_ms=float(case.get("p50", float("nan"))),
        p99_ms=float(case.get("p99", float("nan"))),
        steady=steady_latency(completion_samples(completions, run_id), warmup),
        behind_ms=float(result.engine.options.get("generator_max_behind_ms", 0.0)),
        unfinished=result.counts.cases_open,
        detail=detail,
    )


# -- relay -------------------------------------------------------------------------------------


def trigger_bytes() -> bytes:
    """One real F03 trigger, single-object Avro encoded, as the generator would send it."""
    from govstream.contracts.catalog import load_catalog
    from govstream.contracts.codec import AvroCodec
    from processors import FLOWS

    flow = FLOWS["F03"]
    make = flow.source.generator(random.Random(1), {})
    trigger = make("F03-bench-0000001", date(2021, 6, 1))
    return AvroCodec(load_catalog()).encode(flow.source_topic, trigger)


def relay_main(bootstrap: str, ready: Any, stop: Any, limit_seconds: float) -> None:
    """The relay process: every message on the in-topic, re-sent unchanged to three out-topics.

    Like the faust worker it sends without waiting for each acknowledgement (acks=all, no
    linger); unlike it, it decodes nothing, keeps no state and commits nothing.
    """
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        client_id="bench-relay",
        enable_auto_commit=False,
        group_id=None,
    )
    partitions = [
        TopicPartition(RELAY_IN, p) for p in sorted(consumer.partitions_for_topic(RELAY_IN) or ())
    ]
    consumer.assign(partitions)
    consumer.seek_to_end()
    for tp in partitions:
        consumer.position(tp)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","), client_id="bench-relay", acks="all", linger_ms=0
    )
    ready.set()
    deadline = time.monotonic() + limit_seconds
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=100).values():
                for record in records:
                    for topic in RELAY_OUT:
                        producer.send(
                            topic, key=record.key, value=record.value, headers=record.headers
                        )
        producer.flush(timeout=10)
    finally:
        producer.close(timeout=10)
        consumer.close()


class RelayWatch(TopicTail):
    """Sees the relay's outputs on this process's clock, as the collector sees outcomes."""

    def __init__(self, bootstrap: str, step: str, count: int) -> None:
        super().__init__(bootstrap, RELAY_OUT, name="bench-relay-watch")
        self.step = step
        self.seen: list[list[float]] = [[] for _ in range(count)]
        self.written: list[float] = [0.0] * count
        self.intended: list[float] = [0.0] * count
        self.finished: list[float] = []
        self.latency = RecorderSet()

    def done(self) -> int:
        with self._lock:
            return len(self.finished)

    def take(self, record: Any, seen: float) -> None:
        headers = {key: (value or b"").decode() for key, value in record.headers or ()}
        if headers.get(STEP_HEADER) != self.step:
            return
        index = int(record.key.decode().rsplit("-", 1)[1])
        intended = float(headers[INTENDED_HEADER])
        self.latency[record.topic].record(max(0.0, seen - intended))
        self.intended[index] = intended
        self.written[index] = max(self.written[index], record.timestamp / 1000)
        outputs = self.seen[index]
        outputs.append(seen)
        if len(outputs) == len(RELAY_OUT):
            self.finished.append(seen)
            self.latency["all"].record(max(0.0, seen - intended))

    def samples(self, t0: float) -> list[tuple[float, float]]:
        """(seconds after t0, intended emit → last of the three outputs written) per message."""
        with self._lock:
            return [
                (self.intended[i] - t0, self.written[i] - self.intended[i])
                for i, outputs in enumerate(self.seen)
                if len(outputs) == len(RELAY_OUT)
            ]


def emit_relay(
    bootstrap: str, step: str, schedule: Sequence[float], payload: bytes, t0: float
) -> tuple[list[float], float]:
    """Open-loop emits at t0 + each scheduled second; returns emit times and how far behind."""
    from govstream.engines.kafka.generator import make_producer

    producer = make_producer(bootstrap)
    emits: list[float] = []
    behind = 0.0
    try:
        for index, at in enumerate(schedule):
            intended = t0 + at
            delay = intended - time.time()
            if delay > 0:
                time.sleep(delay)
            else:
                behind = max(behind, -delay)
            emits.append(time.time())
            headers = [(INTENDED_HEADER, repr(intended).encode()), (STEP_HEADER, step.encode())]
            producer.send(RELAY_IN, key=f"{step}-{index}".encode(), value=payload, headers=headers)
        producer.flush(timeout=60)
    finally:
        producer.close(timeout=10)
    return emits, behind


def constant_schedule(rate: float, seconds: float) -> list[float]:
    """The govstream generator's schedule for the same scenario: seconds after t0."""
    from govstream.pipeline.schedule import schedule
    from govstream.scenario.loader import load_scenario

    scenario = load_scenario(SCENARIO, scenario_overrides(rate, seconds))
    return [arrival.at / SPEEDUP for arrival in schedule(scenario)]


def run_relay(
    bootstrap: str,
    rate: float,
    seconds: float,
    *,
    grace: float,
    drain: float,
    warmup: float,
    payload: bytes,
) -> Step:
    schedule = constant_schedule(rate, seconds)
    step = f"relay{rate:g}x{os.getpid()}x{int(time.time())}"
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    limit = seconds + drain + 60.0
    relay = context.Process(
        target=relay_main, args=(bootstrap, ready, stop, limit), name="bench-relay", daemon=True
    )
    relay.start()
    try:
        if not ready.wait(READY_TIMEOUT_SECONDS):
            raise RuntimeError(f"the relay process was not ready after {READY_TIMEOUT_SECONDS}s")
        watch = RelayWatch(bootstrap, step, len(schedule))
        watch.start()
        t0 = time.time() + START_DELAY_SECONDS
        emits, behind = emit_relay(bootstrap, step, schedule, payload, t0)
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline and watch.done() < len(schedule):
            time.sleep(0.1)
        time.sleep(0.5)
        watch.stop()
        watch.join(timeout=10)
    finally:
        stop.set()
        relay.join(timeout=20)
        if relay.is_alive():
            relay.terminate()
            relay.join(timeout=10)
    summaries = watch.latency.summaries()
    every = summaries.get("all")
    detail = {
        f"{topic.rsplit('.', 1)[1]} {stat}": getattr(summaries[topic], stat) * 1000
        for topic in RELAY_OUT
        if topic in summaries
        for stat in ("p50", "p99")
    }
    return Step(
        workload="relay",
        rate=rate,
        window=window_of(emits, watch.finished, grace),
        p50_ms=every.p50 * 1000 if every else float("nan"),
        p99_ms=every.p99 * 1000 if every else float("nan"),
        steady=steady_latency(watch.samples(t0), warmup),
        behind_ms=behind * 1000,
        unfinished=len(schedule) - len(watch.finished),
        detail=detail,
    )


# -- report ------------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Plain aligned columns: the first `left` columns left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b and a == a and b == b else "-"


def backlog_cell(step: Step) -> str:
    return f"{step.window.backlog} ({step.window.backlog_share:.0%})"


STEP_COLUMNS = ("emit/s", "done/s", "p50 ms", "p99 ms", "backlog")


def main_table(pairs: Sequence[tuple[Step, Step]]) -> str:
    rows: list[tuple[str, ...]] = [
        ("", "govstream", "", "", "", "", "relay", "", "", "", "", "govstream / relay", "", ""),
        ("rate/s", *STEP_COLUMNS, *STEP_COLUMNS, "done/s", "p50", "p99"),
    ]
    for gs, relay in pairs:
        rows.append(
            (
                f"{gs.rate:g}",
                *step_cells(gs),
                *step_cells(relay),
                ratio(gs.window.done_rate, relay.window.done_rate),
                ratio(gs.p50_ms, relay.p50_ms),
                ratio(gs.p99_ms, relay.p99_ms),
            )
        )
    return table(rows)


def step_cells(step: Step) -> tuple[str, ...]:
    return (
        f"{step.window.emit_rate:.1f}",
        f"{step.window.done_rate:.1f}",
        f"{step.p50_ms:.1f}",
        f"{step.p99_ms:.1f}",
        backlog_cell(step),
    )


def steady_table(pairs: Sequence[tuple[Step, Step]]) -> str:
    rows: list[tuple[str, ...]] = [
        ("", "govstream", "", "", "relay", "", "", "govstream / relay", ""),
        ("rate/s", "cases", "p50 ms", "p99 ms", "messages", "p50 ms", "p99 ms", "p50", "p99"),
    ]
    for gs, relay in pairs:
        rows.append(
            (
                f"{gs.rate:g}",
                str(gs.steady.count),
                f"{gs.steady.p50_ms:.1f}",
                f"{gs.steady.p99_ms:.1f}",
                str(relay.steady.count),
                f"{relay.steady.p50_ms:.1f}",
                f"{relay.steady.p99_ms:.1f}",
                ratio(gs.steady.p50_ms, relay.steady.p50_ms),
                ratio(gs.steady.p99_ms, relay.steady.p99_ms),
            )
        )
    return table(rows)


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def govstream_table(steps: Sequence[Step]) -> str:
    hops = GOVSTREAM_DETAIL
    rows: list[tuple[str, ...]] = [
        (
            "rate/s",
            "cases",
            *(f"{name} p50/p99" for name in hops),
            *("behind ms", "open at stop", "skipped", "sustains", "steady"),
        ),
    ]
    for step in steps:
        d = step.detail
        rows.append(
            (
                f"{step.rate:g}",
                f"{d['cases']:.0f}",
                *(f"{d[f'{name} p50']:.1f} / {d[f'{name} p99']:.1f}" for name in hops),
                f"{step.behind_ms:.1f}",
                str(step.unfinished),
                f"{d['skipped_leftovers']:.0f}",
                yes(step.sustainable),
                yes(step.sustainable_steady),
            )
        )
    return table(rows)


def relay_table(steps: Sequence[Step]) -> str:
    outs = [topic.rsplit(".", 1)[1] for topic in RELAY_OUT]
    rows: list[tuple[str, ...]] = [
        (
            "rate/s",
            "sent",
            *(f"{name} p50/p99" for name in outs),
            *("behind ms", "unfinished", "sustains", "steady"),
        ),
    ]
    for step in steps:
        d = step.detail
        rows.append(
            (
                f"{step.rate:g}",
                str(step.window.emitted),
                *(
                    f"{d.get(f'{name} p50', float('nan')):.1f} / "
                    f"{d.get(f'{name} p99', float('nan')):.1f}"
                    for name in outs
                ),
                f"{step.behind_ms:.1f}",
                str(step.unfinished),
                yes(step.sustainable),
                yes(step.sustainable_steady),
            )
        )
    return table(rows)


def highest(steps: Sequence[Step], test: Callable[[Step], bool]) -> float | None:
    passing = [step.rate for step in steps if test(step)]
    return max(passing) if passing else None


def verdict(name: str, pairs: Sequence[tuple[Step, Step]], test: Callable[[Step], bool]) -> str:
    """Each workload's highest passing rate, and their ratio when both have one.

    The highest rate tried is only a lower bound of what a workload sustains; a ratio against
    such a bound is then an upper bound, and says so.
    """
    top = max(gs.rate for gs, _ in pairs)
    a = highest([gs for gs, _ in pairs], test)
    b = highest([relay for _, relay in pairs], test)

    def shown(rate: float | None) -> str:
        if rate is None:
            return "none of the rates tried"
        return f"{rate:g}/s" + (" or more" if rate == top else "")

    text = f"  {name}: govstream {shown(a)}, relay {shown(b)}"
    if a is not None and b is not None:
        bound = "<= " if b == top and a < top else ""
        text += f"; govstream / relay {bound}{a / b:.2f}"
    return text


def context_lines(bootstrap: str, given: bool, payload: bytes, args: argparse.Namespace) -> str:
    from govstream.engines.results import package_versions

    versions = package_versions("faust-streaming", "kafka-python", "aiokafka")
    try:
        from govstream.broker.jars import KAFKA_VERSION
    except ImportError:
        KAFKA_VERSION = "unknown"
    where = "given cluster" if given else "temporary single-node cluster"
    return "\n".join(
        [
            f"Kafka {KAFKA_VERSION} at {bootstrap} ({where}); "
            + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"{os.cpu_count()} CPUs; {args.seconds:g} s per step; constant arrivals; "
            f"speedup {SPEEDUP:g}; 1 faust worker; grace {args.grace:g} s; drain {args.drain:g} s; "
            f"trigger {len(payload)} bytes",
        ]
    )


def report(
    pairs: Sequence[tuple[Step, Step]],
    header: str,
    loads: tuple[Sequence[float], ...],
    warmup: float,
) -> str:
    gs = [pair[0] for pair in pairs]
    relay = [pair[1] for pair in pairs]
    load_text = "; ".join(
        f"{label} {' '.join(f'{v:.2f}' for v in load)}"
        for label, load in zip(("start", "end"), loads, strict=True)
    )
    limits = f"p99 < {P99_LIMIT_MS:g} ms and backlog <= {BACKLOG_LIMIT:.0%}"
    return "\n\n".join(
        [
            header + f"\nload average (1/5/15 min): {load_text}",
            "Whole run. Latency: intended emit -> case completion seen (govstream) / all three "
            "outputs seen (relay).\nBacklog: emitted but not finished at the last emit + grace."
            "\n" + main_table(pairs),
            f"Steady state: cases intended after the first {warmup:g} s; latency: intended emit "
            "-> last record written\n(completion / third output) by its producer, so without "
            "the final consumer's poll.\n" + steady_table(pairs),
            "govstream detail (platform ms; open at stop: cases still open after the drain; "
            "skipped: an earlier\nstep's unconsumed messages moved past before this one)\n"
            + govstream_table(gs),
            "relay detail (ms)\n" + relay_table(relay),
            "\n".join(
                [
                    "Highest sustainable rate",
                    verdict(f"{limits}, whole run", pairs, lambda s: s.sustainable),
                    verdict(f"{limits}, steady state", pairs, lambda s: s.sustainable_steady),
                    verdict(f"backlog <= {BACKLOG_LIMIT:.0%} only", pairs, lambda s: s.no_backlog),
                ]
            ),
        ]
    )


def progress(step: Step) -> None:
    print(
        f"  {step.workload:9} {step.rate:>6g}/s  emitted {step.window.emitted:>6}  "
        f"done/s {step.window.done_rate:7.1f}  p50 {step.p50_ms:8.1f} ms  "
        f"p99 {step.p99_ms:8.1f} ms  backlog {backlog_cell(step)}",
        file=sys.stderr,
        flush=True,
    )


def run_all(bootstrap: str, args: argparse.Namespace, payload: bytes) -> list[tuple[Step, Step]]:
    """govstream and the relay alternate at each rate, so slow drift in the machine's other
    load falls on both alike."""
    create_relay_topics(bootstrap)
    pairs = []
    for rate in args.rates:
        gs = run_govstream(bootstrap, rate, args.seconds, args.grace, args.drain, args.warmup)
        progress(gs)
        relay = run_relay(
            bootstrap,
            rate,
            args.seconds,
            grace=args.grace,
            drain=args.drain,
            warmup=args.warmup,
            payload=payload,
        )
        progress(relay)
        pairs.append((gs, relay))
    return pairs


def rates(text: str) -> list[float]:
    values = [float(part) for part in text.split(",") if part.strip()]
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("rates must be positive numbers, e.g. 20,50,100")
    return sorted(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bootstrap", help="HOST:PORT of a running cluster (default: start one)")
    parser.add_argument("--rates", type=rates, default=rates("20,50,100,200,400"))
    parser.add_argument("--seconds", type=float, default=20.0, help="emission window per step")
    parser.add_argument("--grace", type=float, default=1.0, help="after the last emit, s")
    parser.add_argument(
        "--drain", type=float, default=10.0, help="longest wait for open cases after the window"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds left out of the steady percentiles"
    )
    args = parser.parse_args(argv)
    from govstream.logs import configure_logging

    configure_logging("warning")
    payload = trigger_bytes()
    started = time.monotonic()
    load_start = os.getloadavg()
    with cluster(args.bootstrap) as bootstrap:
        pairs = run_all(bootstrap, args, payload)
        header = context_lines(bootstrap, bool(args.bootstrap), payload, args)
    text = report(pairs, header, (load_start, os.getloadavg()), args.warmup)
    print(text)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
