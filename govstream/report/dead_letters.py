"""The dead-letter table: what reached the dead-letter topic during a run, and from where.

Counted whoever wrote the message (this run's agents or another producer on the same topics),
so junk on a source topic shows in the report rather than vanishing into the topic.
"""

from __future__ import annotations

from govstream.report.tables import Table
from govstream.result import RunResult


def dead_letters_table(result: RunResult) -> Table | None:
    letters = result.dead_letters
    if not letters.by_reason and not letters.by_source_topic:
        return None
    rows = [("reason", reason, str(n)) for reason, n in sorted(letters.by_reason.items())]
    topics = sorted(letters.by_source_topic.items())
    rows += [("source topic", topic, str(n)) for topic, n in topics]
    return Table(
        "Dead letters",
        ("by", "what", "messages"),
        rows,
        "every message that reached the dead-letter topic during the run, whoever wrote it",
    )
