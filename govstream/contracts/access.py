"""Who may do what on a secure cluster, derived from the catalog: the ACLs as plain data.

The catalog already says who writes and who reads every topic; this module turns that into
grants for the cluster's principals, so the access list is enforced rather than documented.
Parties map to principals as the kafka engine runs them:

- each agency (and each source agency) is a principal of its own, named by its agency id;
- every flow's orchestrator, wait timer and scorer run on the 一网通 platform, as ``platform``;
- ``collector`` is the measuring instrument of a run: it reads the orchestrators' progress
  records and the dead letters and writes nothing;
- the dead-letter topic is written by every role that consumes (each must be able to set aside
  what it cannot handle) and read by the collector only.

Nothing else is granted: a principal absent here, or an operation not listed for it, is
refused by the broker (``allow.everyone.if.no.acl.found=false``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from govstream.contracts.catalog import COLLECTOR, Catalog

PLATFORM = "platform"
PLATFORM_PREFIX = "govstream-"
"""The platform's consumer groups and the topics faust keeps for it (the ``cases`` table's
changelog, the assignor's leader topic) all start with the faust app id, ``govstream-<flows>``."""
AGENCY_GROUP_PREFIX = "govstream."
"""An agency's consumer groups are ``govstream.<agency>.<flows>``; agency ids hold no dot, so
one agency's prefix never covers another's."""

TOPIC = "topic"
GROUP = "group"
LITERAL = "literal"
PREFIXED = "prefixed"
READ = "read"
WRITE = "write"
CREATE = "create"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW rule: ``principal`` may ``operation`` on the resource ``name`` (or prefix)."""

    principal: str
    resource: str
    name: str
    pattern: str
    operation: str

    def covers(self, resource: str, name: str) -> bool:
        if resource != self.resource:
            return False
        return name == self.name if self.pattern == LITERAL else name.startswith(self.name)


def principal_of(party: str) -> str:
    """The principal a catalog party connects as."""
    if party.endswith(("-orchestrator", "-timer", "-scorer")):
        return PLATFORM
    return party


def agency_group_prefix(agency: str) -> str:
    return f"{AGENCY_GROUP_PREFIX}{agency}."


def principals(catalog: Catalog) -> tuple[str, ...]:
    """Every principal the catalog implies, platform and collector first, then agencies."""
    parties = {
        principal_of(party)
        for spec in catalog.topics.values()
        for party in (*spec.producers, *spec.consumers)
    }
    agencies = sorted(parties - {PLATFORM, COLLECTOR})
    return (PLATFORM, COLLECTOR, *agencies)


def grants(catalog: Catalog) -> frozenset[Grant]:
    """The complete ACL of a secure cluster for this catalog."""
    rules: set[Grant] = set()

    def allow(principal: str, name: str, operation: str, *, resource: str = TOPIC) -> None:
        rules.add(Grant(principal, resource, name, LITERAL, operation))

    for spec in catalog.topics.values():
        for party in spec.producers:
            allow(principal_of(party), spec.name, WRITE)
        for party in spec.consumers:
            allow(principal_of(party), spec.name, READ)
    allow(COLLECTOR, catalog.dead_letter_topic, READ)
    consumers = {rule.principal for rule in rules if rule.operation == READ} - {COLLECTOR}
    for principal in consumers:
        allow(principal, catalog.dead_letter_topic, WRITE)
    for operation in (READ, WRITE, CREATE):
        rules.add(Grant(PLATFORM, TOPIC, PLATFORM_PREFIX, PREFIXED, operation))
    rules.add(Grant(PLATFORM, GROUP, PLATFORM_PREFIX, PREFIXED, READ))
    for principal in consumers - {PLATFORM}:
        rules.add(Grant(principal, GROUP, agency_group_prefix(principal), PREFIXED, READ))
    # A subscriber keeps its table of a publication's records with a changelog of its own,
    # which faust names after the agency's app and creates.
    for spec in catalog.topics.values():
        if spec.compacted:
            for party in spec.consumers:
                for operation in (READ, WRITE, CREATE):
                    prefix = agency_group_prefix(principal_of(party))
                    rules.add(Grant(principal_of(party), TOPIC, prefix, PREFIXED, operation))
    return frozenset(rules)


def allowed(rules: Iterable[Grant], principal: str, operation: str, topic: str) -> bool:
    """Whether ``rules`` let ``principal`` do ``operation`` on ``topic``."""
    return any(
        rule.principal == principal and rule.operation == operation and rule.covers(TOPIC, topic)
        for rule in rules
    )


def readers(rules: Iterable[Grant], topic: str) -> tuple[str, ...]:
    """Every principal that may read ``topic``, sorted."""
    return tuple(
        sorted({r.principal for r in rules if r.operation == READ and r.covers(TOPIC, topic)})
    )
