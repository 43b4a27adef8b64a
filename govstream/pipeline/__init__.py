"""The engine-neutral pipeline: what the sim and kafka engines share when they run a step graph.

- `agencies`: one agency model (opening hours, service draw, rejection, outcome) and its pools;
- `book`: the latency book, which owns the metric names SLA checks and reports read;
- `tally`: one way of counting cases, requests and what went wrong;
- `schedule`: every flow's arrivals and triggers, merged in time order.
"""
