"""The workers' faust agents, each in a module of its own with its dependencies in one object.

- `orchestrator`: one agent for every flow of a run, walking each case's step graph;
- `endpoint`: one agent per agency pool, its clerks serving every flow from one queue;
- `wait_timer`: waits outside any agency, each answered after its duration;
- `shared`: what they share (sending with headers, dead letters, the clock).

Each agent function is made from its dependency object (``orchestrator(deps)``), so `build_app`
only wires them to an app, and a test runs one alone on faust's test context.
"""
