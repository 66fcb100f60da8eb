"""URL rules whose URL-building functions are made when first used.

werkzeug writes, compiles and runs two Python functions per URL rule (``Rule._compile_builder``: one that
builds the rule's URL, one that also appends unknown arguments as a query string) as soon as the rule is
added to the app. A node has some 300 rules, so every app paid about 0.3 s of CPU at creation — every
command, worker and server process at start, and most of what the test suite spent — though a process
builds URLs for a handful of rules at most. :class:`LazyRule` defers each function to its first call;
matching requests is unchanged (the rule's regular expression is still compiled when the rule is added).

It overrides ``_compile_builder``, a private method of werkzeug's ``Rule`` that has kept its name and
contract through werkzeug 2.2-3.1; ``pyproject.toml`` pins werkzeug to that range and
``tests/core/test_web.py`` checks that URLs are built alike.
"""

from __future__ import annotations

from typing import Any, Callable

from werkzeug.routing import IntegerConverter, Map, Rule

from ..db import ROW_ID_MAX


class LazyRule(Rule):
    """A :class:`werkzeug.routing.Rule` that compiles its URL builders on first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        name = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            # ``compile`` binds what this returns to the rule; the first call puts werkzeug's own function there.
            compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, name, compiled)
            return compiled(*args, **kwargs)

        return build


class BoundedIntegerConverter(IntegerConverter):
    """The ``<int:…>`` converter, bounded to what an integer column holds.

    werkzeug's own matches any run of digits, so ``/api/v1/outbox/6589777117`` reached PostgreSQL, which refuses
    to compare an ``integer`` column with a number beyond its range, and the request ended in a server error. A
    number no row can have does not match the rule: the answer is 404, as for any id that is not there.
    """

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = ROW_ID_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class NodeMap(Map):
    """The node's URL map: ``int`` is :class:`BoundedIntegerConverter`."""

    default_converters = {**Map.default_converters, "int": BoundedIntegerConverter}
