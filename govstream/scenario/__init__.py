"""Scenario files: their model, loading and validation."""
