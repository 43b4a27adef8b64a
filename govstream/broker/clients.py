"""How a client connects to a local cluster: a Kafka client properties file, and the Python
connection settings (kafka-python, aiokafka/faust) read from it.

The properties file is the standard Java client format (``--command-config`` of Kafka's own
tools takes it as is), so one file serves the Kafka CLI, govstream's workers on another machine,
and this process. A plaintext cluster has no file: its settings are the bootstrap address alone.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govstream.broker.config import parse_properties

SASL_SSL = "SASL_SSL"
MECHANISM = "SCRAM-SHA-512"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
_JAAS_VALUE = r'{key}="((?:[^"\\]|\\.)*)"'


class ClientConfigError(ValueError):
    """A client properties file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ClientSettings:
    """One principal's way into one cluster."""

    bootstrap: str
    principal: str | None = None
    password: str | None = None
    cafile: Path | None = None

    @property
    def secure(self) -> bool:
        return self.principal is not None

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's producer, consumer and admin clients."""
        settings: dict[str, Any] = {"bootstrap_servers": self.bootstrap.split(",")}
        if self.secure:
            settings.update(
                security_protocol=SASL_SSL,
                sasl_mechanism=MECHANISM,
                sasl_plain_username=self.principal,
                sasl_plain_password=self.password,
                ssl_cafile=str(self.cafile),
                ssl_check_hostname=True,
            )
        return settings

    def ssl_context(self) -> ssl.SSLContext:
        """A TLS context trusting only the cluster's CA, with host names checked."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        context.check_hostname = True
        return context

    def faust_credentials(self) -> Any:
        """``broker_credentials`` for a faust app (aiokafka underneath); None when plaintext."""
        if not self.secure:
            return None
        import faust

        return faust.SASLCredentials(
            username=self.principal,
            password=self.password,
            ssl_context=self.ssl_context(),
            mechanism=MECHANISM,
        )

    def properties(self) -> dict[str, str]:
        """The Java client properties of these settings."""
        props = {"bootstrap.servers": self.bootstrap}
        if self.secure:
            props.update(
                {
                    "security.protocol": SASL_SSL,
                    "sasl.mechanism": MECHANISM,
                    "sasl.jaas.config": scram_jaas(str(self.principal), str(self.password)),
                    "ssl.truststore.type": "PEM",
                    "ssl.truststore.location": str(self.cafile),
                }
            )
        return props

    def render(self) -> str:
        header = (
            f"# Kafka client settings of principal {self.principal} on {self.bootstrap},\n"
            "# written by `govstream kafka up --secure`. Keep this file private.\n"
        )
        return header + "".join(f"{key}={value}\n" for key, value in self.properties().items())

    @classmethod
    def from_properties(cls, path: Path) -> ClientSettings:
        """Read a properties file written by :meth:`render` (or by hand, in the same form)."""
        try:
            props = parse_properties(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ClientConfigError(f"cannot read client properties {path}: {error}") from None
        bootstrap = props.get("bootstrap.servers", "")
        if not bootstrap:
            raise ClientConfigError(f"{path}: bootstrap.servers is missing")
        protocol = props.get("security.protocol", "PLAINTEXT")
        if protocol == "PLAINTEXT":
            return cls(bootstrap)
        if protocol != SASL_SSL:
            raise ClientConfigError(
                f"{path}: security.protocol {protocol!r} is not supported; allowed: "
                f"PLAINTEXT, {SASL_SSL}"
            )
        mechanism = props.get("sasl.mechanism", "")
        if mechanism != MECHANISM:
            raise ClientConfigError(
                f"{path}: sasl.mechanism {mechanism!r} is not supported; allowed: {MECHANISM}"
            )
        jaas = props.get("sasl.jaas.config", "")
        username = _jaas_value(jaas, "username")
        password = _jaas_value(jaas, "password")
        if username is None or password is None:
            raise ClientConfigError(
                f'{path}: sasl.jaas.config must give username="…" and password="…"'
            )
        location = props.get("ssl.truststore.location", "")
        if not location:
            raise ClientConfigError(f"{path}: ssl.truststore.location is missing")
        if props.get("ssl.truststore.type", "PEM") != "PEM":
            raise ClientConfigError(f"{path}: ssl.truststore.type must be PEM")
        cafile = Path(location)
        if not cafile.is_absolute():
            cafile = path.parent / cafile
        return cls(bootstrap, username, password, cafile)


def scram_jaas(username: str, password: str) -> str:
    return f'{SCRAM_LOGIN} required username="{_quote(username)}" password="{_quote(password)}";'


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _jaas_value(jaas: str, key: str) -> str | None:
    match = re.search(_JAAS_VALUE.format(key=key), jaas)
    if match is None:
        return None
    return re.sub(r"\\(.)", r"\1", match.group(1))
