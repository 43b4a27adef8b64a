"""govstream: the plan's inter-agency data-sharing flows as event streams, with measured latency."""

from importlib import metadata

try:
    __version__ = metadata.version("govstream")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
