"""The contracts' personal data at a glance: which topics hold it and who may read them."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from govstream.contracts.access import grants, readers
from govstream.contracts.catalog import Catalog
from govstream.contracts.personal import KINDS, personal_topics


def kinds_summary(fields: dict[str, str]) -> str:
    """``identity-number ×2, name ×3`` in the order of ``KINDS``."""
    counts = Counter(fields.values())
    return ", ".join(
        f"{kind} ×{counts[kind]}" if counts[kind] > 1 else kind for kind in KINDS if counts[kind]
    )


def principal_readers(catalog: Catalog, topic: str) -> tuple[str, ...]:
    """The principals the ACLs of a secure cluster let read ``topic``."""
    return readers(grants(catalog), topic)


def personal_data_table(catalog: Catalog, topics: list[str] | None = None) -> Table:
    """Each topic holding personal data, what kinds, and every principal that may read it on a
    secure cluster (the catalog's readers, as the ACLs grant them)."""
    rules = grants(catalog)
    table = Table(title="Personal data in the contracts, and who may read it", title_justify="left")
    for column in ("topic", "personal data", "readable by (principals on a secure cluster)"):
        table.add_column(column, no_wrap=column == "topic")
    for name, fields in personal_topics(catalog).items():
        if topics is not None and name not in topics:
            continue
        table.add_row(name, kinds_summary(fields), ", ".join(readers(rules, name)))
    return table
