"""Which identity each Kafka client of a run connects as, and the settings it needs for that.

A plaintext cluster needs only its bootstrap address. On a secure cluster every client is some
principal: the run's own process creates topics and reads consumer lag as ``admin``, sends each
flow's triggers as that flow's source agency and measures as ``collector``; each worker runs one
role (``platform`` or one agency) as that principal. How a process finds the settings:

- a worker given ``--client-properties FILE`` is that file's principal, whatever it asks for;
- otherwise, when the bootstrap address is the cluster ``govstream kafka up`` started (in
  ``$GOVSTREAM_KAFKA_HOME`` or the default state dir) and it is secure, each principal's
  properties file is read from its state dir;
- otherwise the cluster is taken to be plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govstream.broker.clients import ClientSettings
from govstream.contracts.access import PLATFORM
from govstream.contracts.catalog import COLLECTOR

__all__ = ["ADMIN", "COLLECTOR", "PLATFORM", "Access"]

ADMIN = "admin"


@dataclass(frozen=True)
class Access:
    """How this process reaches one cluster."""

    bootstrap: str
    principals_dir: Path | None = None
    """A secure cluster's ``<principal>.properties`` files (the launcher's state dir)."""
    only: ClientSettings | None = None
    """The one identity this process has (a worker started with ``--client-properties``)."""

    @property
    def secure(self) -> bool:
        return (self.only is not None and self.only.secure) or self.principals_dir is not None

    def identities(self, roles: list[str]) -> dict[str, Path]:
        """Each role's client properties file, for the workers this process starts."""
        if self.principals_dir is None:
            raise RuntimeError(
                f"{self.bootstrap} is a secure cluster, but this process has no principals' "
                "client settings for it; run on the machine where `govstream kafka up --secure` "
                "started it, or start each role with `govstream worker --role`"
            )
        return {role: self.principals_dir / f"{role}.properties" for role in roles}

    def settings(self, principal: str) -> ClientSettings:
        if self.only is not None:
            return self.only
        if self.principals_dir is not None:
            return ClientSettings.from_properties(self.principals_dir / f"{principal}.properties")
        return ClientSettings(self.bootstrap)


_known: dict[str, Access] = {}


def register(access: Access) -> None:
    """Use ``access`` for every client of this process that connects to its bootstrap."""
    _known[access.bootstrap] = access


def use_client_properties(path: Path) -> ClientSettings:
    """Make ``path`` this process's one identity on the cluster it names; return its settings."""
    settings = ClientSettings.from_properties(path)
    register(Access(settings.bootstrap, only=settings))
    return settings


def access_for(bootstrap: str) -> Access:
    """How to reach ``bootstrap``: registered, found in the launcher's state, or plaintext."""
    known = _known.get(bootstrap)
    if known is None:
        known = _from_launcher(bootstrap) or Access(bootstrap)
        _known[bootstrap] = known
    return known


def settings(bootstrap: str, principal: str) -> ClientSettings:
    return access_for(bootstrap).settings(principal)


def kafka_python(bootstrap: str, principal: str) -> dict[str, object]:
    """kafka-python keyword arguments for ``principal`` on the cluster at ``bootstrap``."""
    return settings(bootstrap, principal).kafka_python()


def role_principal(role: str | None) -> str:
    """A worker role's principal: the platform's, or the agency's own."""
    return PLATFORM if role is None else role


def _from_launcher(bootstrap: str) -> Access | None:
    from govstream.broker import launcher

    try:
        info = launcher.status()
    except Exception:  # no readable launcher state: nothing to learn from it
        return None
    if info is None or not info.secure or info.bootstrap != bootstrap:
        return None
    return Access(bootstrap, principals_dir=info.security.principals_dir)
