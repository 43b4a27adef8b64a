"""The engine-neutral pipeline: what the sim and kafka engines share when they run a step graph.

- `agencies`: one agency model (opening hours, service draw, rejection, outcome) and its pools;
- `exchange`: the government exchange's drawn delay for each message that crosses it;
- `ledger`: one set of books, fed by both engines: every counter, identity and hop name;
- `book`: the latency book, which owns the metric names SLA checks and reports read;
- `series`: the run over time in fixed bins;
- `schedule`: every flow's arrivals and triggers, merged in time order;
- `windows`: which windows an event counts in, as faust's tables count them, and the scores
  that reach a threshold (F13).
"""
