"""Shangliang core: the node's app factory, database, plugin host, task queue and command line."""

__version__ = "0.1.0"
