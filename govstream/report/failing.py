"""The targets that make `--fail-on-sla` fail, one line each, for a log nobody scrolls.

With `--quiet` a CI job prints only the paths it wrote; when it then exits 3, the reason has
to be in the same log without opening report.html: which target, of which flow, which
statistic, what was observed against what limit, and the verdict.
"""

from __future__ import annotations

from govstream.report.tables import (
    limit_text,
    observed_text,
    sla_summary,
    verdict_of,
    verdict_on,
    verdict_word,
)
from govstream.result import RunResult, TargetVerdict


def failing_lines(result: RunResult) -> list[str]:
    """The summary line, then every target not met and every plan target left unchecked."""
    lines = [f"SLA: {sla_summary(result)}"]
    lines += [target_line(v) for v in result.targets if verdict_of(v) != "met"]
    lines += [
        f"NOT CHECKED {u.flow} plan {u.measure}: {u.what} ({u.limit}); add a target for it"
        for u in result.unchecked_plan_targets
    ]
    lines += [
        f"NOT CONFORMANT {agency}: invalid {c.invalid_total}"
        + (
            f" ({', '.join(f'{reason} {n}' for reason, n in c.invalid.items())})"
            if c.invalid
            else ""
        )
        + f"; missing {c.missing}"
        for agency, c in result.conformance.items()
        if not c.passed
    ]
    return lines


def target_line(verdict: TargetVerdict) -> str:
    """`MISSED case-closed-within-5wd: F03 case p99 observed 6.1wd vs limit 5wd`."""
    limit = limit_text(verdict) if verdict.unit in ("s", "wd") else verdict.within
    return (
        f"{verdict_word(verdict).upper()} {verdict.id}: {verdict.flow} {verdict_on(verdict)} "
        f"{verdict.stat} observed {observed_text(verdict)} vs limit {limit}"
    )
