"""A local Apache Kafka cluster for the kafka engine, its tests and its users.

``up()`` starts one (1 or 3 KRaft nodes on loopback), ``status()`` and ``down()`` find and stop
it again from any process, and ``temporary_cluster()`` gives tests a throw-away one.
"""

from govstream.broker.config import DEFAULT_CLIENT_PORT, KAFKA_VERSION, ClusterSpec
from govstream.broker.errors import BrokerError
from govstream.broker.info import ClusterInfo, NodeInfo
from govstream.broker.launcher import down, start, status, temporary_cluster, up

__all__ = [
    "DEFAULT_CLIENT_PORT",
    "KAFKA_VERSION",
    "BrokerError",
    "ClusterInfo",
    "ClusterSpec",
    "NodeInfo",
    "down",
    "start",
    "status",
    "temporary_cluster",
    "up",
]
