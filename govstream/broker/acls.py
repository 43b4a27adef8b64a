"""Putting the catalog's access list on a running secure cluster, and reading back what is there.

The cluster is made to hold exactly the generated grants: missing ones are created and any
other ACL is deleted, so a grant added by hand does not survive the next ``kafka up --secure``.
:func:`cluster_acls` reads every ACL in a form comparable with :func:`expected_acls`, which is how
a test proves that nothing wider than the catalog is granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import structlog
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from govstream.broker.errors import BrokerError
from govstream.contracts.access import Grant

log = structlog.get_logger(__name__)

ANY_HOST = "*"


class AclEntry(NamedTuple):
    """One ACL as the cluster reports it, every attribute spelt out."""

    principal: str
    resource: str
    name: str
    pattern: str
    operation: str
    permission: str
    host: str


def entry_of(grant: Grant) -> AclEntry:
    return AclEntry(
        f"User:{grant.principal}",
        grant.resource,
        grant.name,
        grant.pattern,
        grant.operation,
        "allow",
        ANY_HOST,
    )


def expected_acls(grants: Iterable[Grant]) -> set[AclEntry]:
    return {entry_of(grant) for grant in grants}


def _acl(entry: AclEntry) -> ACL:
    return ACL(
        principal=entry.principal,
        host=entry.host,
        operation=ACLOperation[entry.operation.upper()],
        permission_type=ACLPermissionType[entry.permission.upper()],
        resource_pattern=ResourcePattern(
            ResourceType[entry.resource.upper()],
            entry.name,
            ACLResourcePatternType[entry.pattern.upper()],
        ),
    )


def _entry(acl: Any) -> AclEntry:
    pattern = acl.resource_pattern
    return AclEntry(
        str(acl.principal),
        ResourceType(pattern.resource_type).name.lower(),
        str(pattern.resource_name),
        ACLResourcePatternType(pattern.pattern_type).name.lower(),
        ACLOperation(acl.operation).name.lower(),
        ACLPermissionType(acl.permission_type).name.lower(),
        str(acl.host),
    )


_EVERYTHING = ACLFilter(
    principal=None,
    host=None,
    operation=ACLOperation.ANY,
    permission_type=ACLPermissionType.ANY,
    resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
)


def cluster_acls(admin: KafkaAdminClient) -> set[AclEntry]:
    """Every ACL the cluster holds."""
    found, error = admin.describe_acls(_EVERYTHING)
    if error is not None and getattr(error, "errno", 0):
        raise BrokerError(f"could not read the cluster's ACLs: {error}")
    return {_entry(acl) for acl in found}


def sync_acls(admin: KafkaAdminClient, grants: Iterable[Grant]) -> tuple[int, int]:
    """Make the cluster's ACLs exactly ``grants``; return (created, deleted)."""
    wanted = expected_acls(grants)
    present = cluster_acls(admin)
    missing = sorted(wanted - present)
    extra = sorted(present - wanted)
    if extra:
        admin.delete_acls([_acl(entry) for entry in extra])
    if missing:
        result = admin.create_acls([_acl(entry) for entry in missing])
        if result["failed"]:
            raise BrokerError(f"could not create ACLs: {result['failed'][:3]}")
    log.info("kafka.acls.synced", created=len(missing), deleted=len(extra), total=len(wanted))
    return len(missing), len(extra)


def sync_users(admin: KafkaAdminClient, users: dict[str, str]) -> list[str]:
    """Register the SCRAM credentials of users the cluster does not know yet; return them."""
    described = admin.describe_user_scram_credentials()
    known = {name for name, info in described.items() if not info.get("error")}
    new = sorted(set(users) - known)
    if new:
        outcome = admin.alter_user_scram_credentials(
            [
                UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, users[name])
                for name in new
            ]
        )
        failed = {name: message for name, message in outcome.items() if message}
        if failed:
            raise BrokerError(f"could not register SCRAM users: {failed}")
        log.info("kafka.users.added", users=new)
    return new
