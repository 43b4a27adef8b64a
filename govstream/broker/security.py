"""A secure local cluster: SASL/SCRAM over TLS for clients, TLS client certificates between
nodes and controllers, and the KRaft StandardAuthorizer denying whatever no ACL allows.

::

    <state dir>/secure/ca.pem                      the cluster CA: every client's trust store
    <state dir>/secure/node.pem                    the nodes' key and certificate chain (0600)
    <state dir>/secure/principals/<name>.properties  one client properties file per principal
                                                   (0600): bootstrap, SASL_SSL, its password

Each node listens for clients on SASL_SSL (SCRAM-SHA-512), which the brokers also use among
themselves as ``broker``; the controller listener takes TLS only, with client certificates
required, and the node certificate's ``CN=broker`` maps to that same principal. The super users
are ``broker`` and ``admin`` (the launcher's own principal); everyone else gets exactly the grants
:func:`govstream.contracts.access.grants` derives from the catalog.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govstream.broker.clients import MECHANISM, ClientSettings, scram_jaas
from govstream.broker.config import ClusterSpec
from govstream.broker.tls import TlsFiles, issue, write_private

BROKER = "broker"
ADMIN = "admin"
SUPER_USERS = (BROKER, ADMIN)
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
CLIENT_LISTENER = "SASL_SSL"
CONTROLLER_LISTENER = "CONTROLLER"
#: ``CN=broker`` (the nodes' certificate) becomes the principal ``broker``; any other subject
#: keeps its full distinguished name, which no ACL names.
PRINCIPAL_MAPPING = "RULE:^CN=([a-z0-9-]+)$/$1/,DEFAULT"


@dataclass(frozen=True)
class SecureLayout:
    """The files of a secure cluster under its state dir."""

    root: Path

    @property
    def tls(self) -> TlsFiles:
        return TlsFiles(self.root / "ca.pem", self.root / "node.pem")

    @property
    def principals_dir(self) -> Path:
        return self.root / "principals"

    def client_properties(self, principal: str) -> Path:
        return self.principals_dir / f"{principal}.properties"

    def settings(self, principal: str) -> ClientSettings:
        return ClientSettings.from_properties(self.client_properties(principal))

    def known_principals(self) -> tuple[str, ...]:
        return tuple(sorted(p.stem for p in self.principals_dir.glob("*.properties")))


def prepare(layout: SecureLayout, spec: ClusterSpec, principals: Iterable[str]) -> None:
    """Issue the certificates once, and give every principal a password and a properties file.

    Existing passwords are kept (the cluster stores their salted form), so a restart changes
    nothing a client holds; a principal new to the catalog gets a new password, which
    :func:`govstream.broker.acls.sync_users` then registers with the running cluster. Files are
    rewritten for the current bootstrap address.
    """
    if not (layout.tls.ca_certificate.is_file() and layout.tls.node_keystore.is_file()):
        issue(layout.root, spec.host)
    for principal in dict.fromkeys((*SUPER_USERS, *principals)):
        path = layout.client_properties(principal)
        password = layout.settings(principal).password if path.is_file() else None
        settings = ClientSettings(
            spec.bootstrap,
            principal,
            password or secrets.token_urlsafe(24),
            layout.tls.ca_certificate,
        )
        write_private(path, settings.render().encode("utf-8"))


def passwords(layout: SecureLayout) -> dict[str, str]:
    """Every principal's password, as the properties files hold them."""
    return {name: str(layout.settings(name).password) for name in layout.known_principals()}


def scram_arguments(users: dict[str, str]) -> list[str]:
    """``kafka-storage format`` arguments that put the users' SCRAM credentials in the metadata
    log's bootstrap records, so the brokers can authenticate to each other on first start."""
    arguments: list[str] = []
    for name, password in sorted(users.items()):
        arguments += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
    return arguments


def server_overrides(spec: ClusterSpec, node_id: int, layout: SecureLayout) -> dict[str, str]:
    """What a secure node's ``server.properties`` replaces or adds to the plaintext one."""
    host = spec.host
    client = spec.client_ports[node_id]
    controller = spec.controller_ports[node_id]
    broker_password = str(layout.settings(BROKER).password)
    listener = CLIENT_LISTENER.lower()
    return {
        "listeners": f"{CLIENT_LISTENER}://{host}:{client},{CONTROLLER_LISTENER}://{host}:{controller}",
        "advertised.listeners": f"{CLIENT_LISTENER}://{host}:{client}",
        "inter.broker.listener.name": CLIENT_LISTENER,
        "listener.security.protocol.map": f"{CLIENT_LISTENER}:SASL_SSL,{CONTROLLER_LISTENER}:SSL",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.{listener}.{MECHANISM.lower()}.sasl.jaas.config": scram_jaas(
            BROKER, broker_password
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(layout.tls.node_keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(layout.tls.ca_certificate),
        f"listener.name.{CONTROLLER_LISTENER.lower()}.ssl.client.auth": "required",
        "ssl.principal.mapping.rules": PRINCIPAL_MAPPING,
        "authorizer.class.name": AUTHORIZER,
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(f"User:{name}" for name in SUPER_USERS),
        # A topic appears because its owner created it, never because someone asked for it.
        "auto.create.topics.enable": "false",
    }
