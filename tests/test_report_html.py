"""report.html: written by every run, self-contained, rendered from result.json alone, and
drawn by a real browser (Debian's headless Chromium) with no console errors."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import pytest
from browser import open_page
from cli_runner import every_flow_scenario, govstream, write_scenario

from govstream.report.html import render_html
from govstream.result import EngineInfo, RunResult

OUTAGE = "scenarios/deregistration-bank-outage.yaml"
UTILITIES = "scenarios/utility-connection.yaml"
"""F04: fourteen steps and five spans, targets in seconds, days and working days."""

DRAWN = """JSON.stringify(Array.from(document.querySelectorAll(".chart")).map(div => ({
  id: div.id,
  marks: Array.from(div.querySelectorAll("path.js-line, g.points path, g.bars path"))
    .filter(p => (p.getAttribute("d") || "").length > 2).length,
  shaded: div.querySelectorAll(".shapelayer path").length,
  legend: Array.from(div.querySelectorAll(".legendtext")).map(t => t.textContent),
})))"""


@pytest.fixture(scope="module")
def outage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outage")
    ran = govstream("run", OUTAGE, "--quiet", "--out", out)
    assert ran.returncode == 0, ran.stderr
    assert "report.html" in ran.stdout
    return out


@pytest.fixture(scope="module")
def utilities_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("utilities")
    ran = govstream("run", UTILITIES, "--quiet", "--out", out)
    assert ran.returncode == 0, ran.stderr
    return out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_run_writes_a_self_contained_report(outage_dir: Path) -> None:
    page = (outage_dir / "report.html").read_text(encoding="utf-8")
    # nothing is fetched when the page opens: no external scripts, styles, frames or images
    assert not re.search(r"<script[^>]+src=|<link\b|<iframe\b|<img\b", page)
    assert "Plotly.newPlot" in page
    assert len(page) > 1_000_000  # plotly.js itself is inlined
    figures = json.loads(
        re.search(r'<script type="application/json" id="figures">(.*?)</script>', page, re.S)
        .group(1)
        .replace("<\\/", "</")
    )
    assert {"latency-F03", "queue", "open-cases", "rates", "busy", "hops"} <= set(figures)
    # a reviewer reads verdicts first, then inputs, then distributions, then time, then hops
    order = ["<h2>Verdicts", "<h2>Inputs", "<h2>Latency distributions", "<h2>Over time"]
    order += ["<h2>Per-hop split", "<h2>All figures"]
    positions = [page.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "core-banking migration" in page
    assert "bank-backlog-cleared-within-4wd" in page


def test_summary_gains_the_inputs_and_links_the_report(outage_dir: Path) -> None:
    summary = (outage_dir / "summary.md").read_text(encoding="utf-8")
    assert "[report.html](report.html)" in summary
    for expected in (
        "## Inputs: the run",
        "| transport, every hop | lognormal median 150ms, p95 1s |",
        "| F03 | bursts | 40/d | around the clock | 120/d for 2d from 27d (Mon 28 Jun 09:00) |",
        "| bank | 6 | office | lognormal median 20min, p95 90min |",
        "14d (Tue 15 Jun 09:00) to 17d (Fri 18 Jun 09:00): core-banking migration",
    ):
        assert expected in summary
    assert summary.index("## Inputs") < summary.index("## Counts")


def test_report_renders_every_output_from_result_json_alone(
    outage_dir: Path, tmp_path: Path
) -> None:
    """A result.json copied anywhere renders the same summary.md and report.html."""
    shutil.copy(outage_dir / "result.json", tmp_path / "result.json")
    rendered = govstream("report", tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert "SLA" in rendered.stdout  # the console report too
    for name in ("summary.md", "report.html"):
        assert (tmp_path / name).read_bytes() == (outage_dir / name).read_bytes(), name
    elsewhere = tmp_path / "elsewhere"
    quiet = govstream("report", tmp_path / "result.json", "--out", elsewhere, "--quiet")
    assert quiet.returncode == 0
    assert quiet.stdout.strip().startswith("wrote ")
    assert (elsewhere / "report.html").exists()


def test_report_refuses_what_is_not_a_result(tmp_path: Path) -> None:
    missing = govstream("report", tmp_path / "nothing-here")
    assert missing.returncode == 2
    assert "nothing-here" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "result.json").write_text('{"schema": "something else"}', encoding="utf-8")
    wrong = govstream("report", tmp_path)
    assert wrong.returncode == 2
    assert "not a govstream result.json" in wrong.stderr


def test_the_report_draws_in_headless_chromium(outage_dir: Path, tmp_path: Path) -> None:
    with open_page(outage_dir / "report.html", tmp_path / "profile") as page:
        state = page.wait_until(
            "document.body.dataset.charts !== 'pending' && document.body.dataset.charts"
        )
        charts = json.loads(page.evaluate(DRAWN))
        full = page.screenshot(tmp_path / "report.png")
        box = json.loads(
            page.evaluate(
                "JSON.stringify(document.getElementById('queue').getBoundingClientRect())"
            )
        )
        queue = page.screenshot(
            tmp_path / "queue.png",
            clip={k: box[k] for k in ("x", "y", "width", "height")},
        )
        errors = page.errors()
    assert state == "drawn"
    assert errors == []
    by_id = {chart["id"]: chart for chart in charts}
    # F03's targets in working days have a panel of their own, in working days
    assert set(by_id) == {
        "latency-F03",
        "latency-F03-legal",
        "queue",
        "open-cases",
        "rates",
        "busy",
        "hops",
        "why",
    }
    # where the time went: the bank's outage is a part of the missed backlog target's cases
    assert "outage" in by_id["why"]["legend"]
    for chart in charts:
        assert chart["marks"] > 0, chart
    assert by_id["queue"]["legend"] == ["police", "bank", "housing-fund"]
    # the bank's outage is shaded on every chart over time, and only there
    for chart_id in ("queue", "open-cases", "rates", "busy"):
        assert by_id[chart_id]["shaded"] == 1, chart_id
    assert by_id["latency-F03"]["shaded"] == 0
    assert by_id["latency-F03-legal"]["shaded"] == 0
    width, height = png_size(full)
    assert width == 1280 and height > 3000
    assert png_size(queue)[0] == round(box["width"])


def test_a_kafka_result_of_several_flows_draws_its_platform_latency(tmp_path: Path) -> None:
    """Every flow at once, its result marked as a Kafka run with platform latencies: one
    percentile chart per flow and the platform chart render, without console errors."""
    scenario = write_scenario(tmp_path / "every-flow.yaml", every_flow_scenario(rate="4/d"))
    ran = govstream("run", scenario, "--quiet", "--out", tmp_path / "run")
    assert ran.returncode == 0, ran.stderr
    result = RunResult.read(tmp_path / "run" / "result.json")
    platform = {
        key: {**summary, **{s: float(summary[s]) * 1000 for s in ("mean", "p50", "p90", "p99")}}
        for key, summary in result.latency.items()
        if key.startswith("hop:") or key.endswith("/case")
    }
    kafka = result.model_copy(
        update={
            "engine": EngineInfo(name="kafka", versions={}, options={"speedup": 1000}),
            "platform_ms": platform,
        }
    )
    page_path = tmp_path / "kafka.html"
    page_path.write_text(render_html(kafka), encoding="utf-8")
    with open_page(page_path, tmp_path / "profile") as page:
        assert page.wait_until("document.body.dataset.charts !== 'pending' && 1")
        state = page.evaluate("document.body.dataset.charts")
        charts = {c["id"]: c for c in json.loads(page.evaluate(DRAWN))}
        page.screenshot(tmp_path / "kafka.png")
        errors = page.errors()
    assert state == "drawn"
    assert errors == []
    assert {f"latency-{flow_id}" for flow_id in result.flow_ids} <= set(charts)
    assert charts["platform"]["marks"] > 0
    assert all(chart["marks"] > 0 for chart in charts.values())
    assert len(charts["open-cases"]["legend"]) == len(result.flows)


TARGET_MARKS = """JSON.stringify(Array.from(document.querySelectorAll(".chart")).flatMap(div => {
  const plot = div.querySelector("rect.nsewdrag").getBoundingClientRect();
  return Array.from(div.querySelectorAll("g.trace.scatter"))
    .filter(g => g.__data__ && g.__data__[0].trace.meta && g.__data__[0].trace.meta.target)
    .map(g => {
      const meta = g.__data__[0].trace.meta;
      const drawn = Array.from(g.querySelectorAll("g.points path, path.js-line"))
        .filter(p => (p.getAttribute("d") || "").length > 2)
        .map(p => p.getBoundingClientRect());
      const inside = drawn.length > 0 && drawn.every(r => r.left >= plot.left - 1
        && r.right <= plot.right + 1 && r.top >= plot.top - 1 && r.bottom <= plot.bottom + 1);
      return {chart: div.id, flow: meta.flow, target: meta.target, on: meta.on, inside};
    });
}))"""

TEXT_BOXES = """JSON.stringify(Array.from(document.querySelectorAll(".chart")).map(div => {
  const box = el => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return r.width && r.height ? {left: r.left, right: r.right, top: r.top, bottom: r.bottom}
      : null;
  };
  return {
    id: div.id,
    title: box(div.querySelector(".infolayer .gtitle")),
    legend: box(div.querySelector(".infolayer .legend .bg") || div.querySelector(".legend")),
    axes: Array.from(div.querySelectorAll(".infolayer .xtitle, .infolayer .ytitle"))
      .map(t => ({name: t.getAttribute("class"), text: t.textContent, box: box(t)})),
  };
}))"""

NOTES = """JSON.stringify({
  listed: Array.from(document.querySelectorAll("ul.note li")).map(li => li.textContent),
  verdicts: Array.from(document.querySelectorAll("td ul.note li")).map(li => li.textContent),
  paragraphs: Array.from(document.querySelectorAll("p.note, div.note")).map(p => p.textContent),
})"""


def latency_targets(result: RunResult) -> list[tuple[str, str]]:
    """(flow, target) of every target on a latency the run measured: each must be marked."""
    found = []
    for verdict in result.targets:
        if verdict.unit not in ("s", "wd") or verdict.of not in (
            "case",
            "acted",
            "delivered",
            "span",
        ):
            continue
        data = result.latency if verdict.unit == "s" else result.legal_working_days
        if verdict.working_days == "office":
            data = result.working_days
        key = {"case": f"{verdict.flow}/case", "span": f"{verdict.flow}/span:{verdict.step}"}.get(
            verdict.of, f"{verdict.flow}/{verdict.of}:{verdict.step}"
        )
        if data.get(key, {}).get("count"):
            found.append((verdict.flow, verdict.id))
    return found


def overlaps(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if a is None or b is None:
        return False
    return not (
        a["right"] <= b["left"]
        or b["right"] <= a["left"]
        or a["bottom"] <= b["top"]
        or b["bottom"] <= a["top"]
    )


@pytest.mark.parametrize("scenario", ["utilities", "outage"])
def test_every_latency_target_is_marked_and_no_axis_title_overlaps(
    scenario: str, utilities_dir: Path, outage_dir: Path, tmp_path: Path
) -> None:
    """Every target on a latency the charts plot shows its limit, inside the plot, whether
    in seconds, days or working days; and no axis title lies over a chart's title or legend,
    F04's twenty lines included."""
    run = {"utilities": utilities_dir, "outage": outage_dir}[scenario]
    result = RunResult.read(run / "result.json")
    with open_page(run / "report.html", tmp_path / "profile") as page:
        assert (
            page.wait_until(
                "document.body.dataset.charts !== 'pending' && document.body.dataset.charts"
            )
            == "drawn"
        )
        marks = json.loads(page.evaluate(TARGET_MARKS))
        charts = json.loads(page.evaluate(TEXT_BOXES))
        page.screenshot(tmp_path / "report.png")
        errors = page.errors()
    assert errors == []
    expected = latency_targets(result)
    assert expected, "the scenario sets latency targets"
    assert sorted((m["flow"], m["target"]) for m in marks) == sorted(expected)
    assert all(mark["inside"] for mark in marks), [m for m in marks if not m["inside"]]
    for chart in charts:
        assert chart["title"] is not None and chart["axes"], chart["id"]
        for axis in chart["axes"]:
            assert axis["box"] is not None, (chart["id"], axis)
            for other in ("title", "legend"):
                assert not overlaps(axis["box"], chart[other]), (chart["id"], axis["text"], other)


def test_how_each_target_was_read_is_a_list(utilities_dir: Path, tmp_path: Path) -> None:
    """Each target's note is an item of its own under the targets table, a note of several
    points split into them, never one paragraph of every note."""
    result = RunResult.read(utilities_dir / "result.json")
    with open_page(utilities_dir / "report.html", tmp_path / "profile") as page:
        page.wait_until("document.body.dataset.charts !== 'pending'")
        notes = json.loads(page.evaluate(NOTES))
    noted = {(v.flow, v.id): v.note for v in result.targets if v.note}
    assert len(noted) >= 5
    for (flow_id, target), note in noted.items():
        items = [li for li in notes["listed"] if li.startswith(f"{flow_id} {target}")]
        assert len(items) == 1, (target, items)
        points = note.split("; ")
        for point in points:
            assert point in items[0]
            # a point is an item of its own: in the verdicts and under the targets table
            assert point in notes["verdicts"]
            assert len(points) == 1 or point in notes["listed"]
    assert not any(target in p for _, target in noted for p in notes["paragraphs"])
