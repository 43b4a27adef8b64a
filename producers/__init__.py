"""Source agencies: seeded generators of each flow's triggers, one module per agency.

A flow's module names its producer (`FlowSpec.source`); nothing here lists them.
"""
