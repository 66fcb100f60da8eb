"""A test-only plugin that owns a table (notes), ships its migrations, and fails in a hook when told to.

Registered through a test-only distribution (``tests/plugins/test_plugin_tables.py`` writes its
``entry_points.txt`` on a folder put on ``sys.path`` and the nodes' ``PYTHONPATH``), never by pyproject.toml:
``notes`` is this package; ``misspelled`` and ``too_new`` are modules beside it, each a plugin that must be
refused.
"""

from .hooks import node_configured, register_commands, topic_transition_guard

NAME = "notes"
REQUIRES_CORE = ">=0.1,<1"
#: ``fail_in``: the hook that raises an unexpected exception (``node_configured``, ``topic_transition_guard``),
#: or ``refuse`` for a refusal on purpose (a ShangliangError) in ``topic_transition_guard``; "" for neither.
CONFIG_DEFAULTS = {"fail_in": ""}

__all__ = ["CONFIG_DEFAULTS", "NAME", "REQUIRES_CORE", "node_configured", "register_commands",
           "topic_transition_guard"]
