"""A flow's step graph drawn as text, for `govstream flows --graph`.

A reader checking a flow against the plan wants to see, in one screen, who acts after whom,
which steps the case's data may skip, which steps answer with data for later ones, and between
which marks the plan's deadlines run. The graph is drawn as a tree from the trigger: a step
hangs under the step it depends on (under the latest declared when it waits for several, with
all of them spelled out beside it), so every step appears exactly once.
"""

from __future__ import annotations

from processors.flow import TRIGGER, AtLeast, FlowSpec, Step, always

BRANCH, LAST = "├─▶ ", "└─▶ "
PIPE, GAP = "│   ", "    "

LEGEND = {
    "after": "after a + b (all): starts once all of them are done; after a or b (any): once "
    "the first is done; or at d: or once the deadline d passes first (withdrawn otherwise)",
    "conditional": "conditional: skipped when the case's data does not concern it (it then "
    "counts as done, so the steps after it still run)",
    "reply": "reply: a request/reply step; the agency answers with these fields, which later "
    "steps read",
    "runs": "runs after a rejection: goes on when a step before it was rejected (otherwise a "
    "step after a rejected one is cancelled, with the steps after it)",
    "per": "per item: one request for each item of the case (each bank holding its accounts); "
    "done when all, the first, or at least k of them are done (a scenario may set another "
    "join); the case waits for every item's answer",
}


def parent(flow: FlowSpec, step: Step) -> str:
    """Where a step hangs: under the latest-declared step it depends on, or the trigger.

    Steps are declared in an order that respects their dependencies, so the latest-declared
    one is the deepest, and hanging the step there keeps a chain reading top to bottom.
    """
    if not step.after:
        return TRIGGER
    order = {candidate.id: index for index, candidate in enumerate(flow.steps)}
    return max(step.after, key=order.__getitem__)


def actor_text(step: Step) -> str:
    return f"waits on {step.actor}" if step.is_wait else f"agency {step.agency}"


def step_notes(step: Step) -> list[str]:
    notes = []
    if len(step.after) > 1:
        joiner = " + " if step.join == "all" else " or "
        waited = [dep for dep in step.after if dep != step.until]
        deadline = f", or at {step.until}" if step.until else ""
        notes.append(f"after {joiner.join(waited)} ({step.join}){deadline}")
    if step.applies is not always:
        notes.append("conditional")
    if step.reply is not None or step.reply_fields:
        notes.append(f"reply: {', '.join(step.reply_fields) or 'no fields'}")
    if step.after and step.after_rejection == "run":
        notes.append("runs after a rejection")
    if step.each is not None:
        join = step.each.join
        joined = f"at least {join.k}" if isinstance(join, AtLeast) else join
        notes.append(f"per {step.each.kind}, joins {joined}")
    return notes


def _tree(flow: FlowSpec) -> list[tuple[str, Step]]:
    """(indent and connector, step) in drawing order: depth first, declaration order."""
    children: dict[str, list[Step]] = {TRIGGER: []}
    for step in flow.steps:
        children.setdefault(parent(flow, step), []).append(step)
        children.setdefault(step.id, [])
    lines: list[tuple[str, Step]] = []

    def walk(node: str, indent: str) -> None:
        below = children[node]
        for index, step in enumerate(below):
            last = index == len(below) - 1
            lines.append((indent + (LAST if last else BRANCH), step))
            walk(step.id, indent + (GAP if last else PIPE))

    walk(TRIGGER, "")
    return lines


def fed_by(flow: FlowSpec) -> list[str]:
    """The flows that hand cases over to this one, as `upstream at mark`."""
    from processors import FLOWS

    return [
        f"{other.id} at {handover.at}"
        for other in FLOWS.values()
        for handover in other.handovers
        if handover.flow == flow.id
    ]


def publication_lines(flow: FlowSpec) -> list[str]:
    """What the flow publishes to subscribers' tables, and the counts it keeps."""
    lines = []
    publication = flow.publication
    if publication is not None:
        topic = flow.step(publication.subscribers[0].holds).topic
        lines.append(f"publishes each case's record on {topic} (compacted; a tombstone retracts):")
        for s in publication.subscribers:
            lines.append(
                f"  {s.agency}: takes it in at {s.holds}, drops it at {s.drops}; checks "
                f"entities on {s.checks}"
            )
        lines.append(f"  a check finding a record after {publication.retracted} is an exposure")
    for tally in flow.tallies:
        lines.append(f"counts {tally.id}: {tally.title}, from {tally.agency}'s {tally.topic}")
    return lines


def draw_flow(flow: FlowSpec) -> list[str]:
    """The flow as lines of text: heading, trigger, steps, spans, rules and a legend."""
    tree = _tree(flow)
    left = max((len(prefix) + len(step.id) for prefix, step in tree), default=0)
    middle = max((len(actor_text(step)) for _, step in tree), default=0)
    shape = "fan-out" if flow.is_fan_out else "step graph"
    lines = [
        f"{flow.id} — {flow.title}",
        f"plan {', '.join(flow.measures)}; {shape} of {len(flow.steps)} steps",
        "",
        f"● {TRIGGER}: {flow.source_agency} publishes {flow.source_topic}",
    ]
    for prefix, step in tree:
        notes = step_notes(step)
        cells = [
            (prefix + step.id).ljust(left),
            actor_text(step).ljust(middle),
            step.title,
        ]
        lines.append(("  ".join(cells) + (f"  [{'; '.join(notes)}]" if notes else "")).rstrip())
    lines.append("")
    if flow.spans:
        lines.append("spans (intervals the plan sets a deadline on):")
        width = max(len(span.id) for span in flow.spans)
        marks = {span.id: f"{span.start} → {span.end}" for span in flow.spans}
        between = max(len(text) for text in marks.values())
        for span in flow.spans:
            line = f"  {span.id.ljust(width)}  {marks[span.id].ljust(between)}  {span.title}"
            lines.append(line.rstrip())
    else:
        lines.append("spans: none declared (a target may still measure between two marks)")
    if flow.handovers:
        lines.append("hands over to (starts a case of another flow):")
        for handover in flow.handovers:
            condition = "" if handover.applies is always else " (where the case's data says)"
            title = f": {handover.title}" if handover.title else ""
            lines.append(f"  ⇒ {handover.flow} at {handover.at}{condition}{title}")
    fed = fed_by(flow)
    if fed:
        lines.append(f"started also by: {', '.join(fed)} (their hand-overs)")
    lines += publication_lines(flow)
    if flow.rules:
        lines.append("rules on the case's data (counted met / not met / n/a):")
        for rule in flow.rules:
            lines.append(f"  {rule.id} ({rule.measure}): {rule.title}")
    used = {note.split(" ")[0].rstrip(":") for step in flow.steps for note in step_notes(step)}
    legend = [text for word, text in LEGEND.items() if word in used]
    if legend:
        lines += ["", "legend:", *(f"  {text}" for text in legend)]
    return lines
