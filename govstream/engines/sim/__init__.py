"""The embedded engine: the plan's flows as SimPy processes in virtual (business) time."""

from govstream.engines.sim.engine import SimEngine

__all__ = ["SimEngine"]
