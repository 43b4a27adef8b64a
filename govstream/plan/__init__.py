"""The plan itself, as data: its information-sharing flows and the time targets it sets.

- `flows`: every flow the plan names, its measures, route and what is shared;
- `targets`: the plan's own time targets (numbers and words, quoted), and how a scenario's
  `source: plan` target is held to them.
"""
