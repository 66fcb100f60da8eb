"""URL rules whose URL-building functions are made when first used.

werkzeug writes, compiles and runs two Python functions per URL rule (``Rule._compile_builder``: one that
builds the rule's URL, one that also appends unknown arguments as a query string) as soon as the rule is
added to the app. A node has some 300 rules, so every app paid about 0.3 s of CPU at creation — every
command, worker and server process at start, and most of what the test suite spent — though a process
builds URLs for a handful of rules at most. :class:`LazyRule` defers each function to its first call;
matching requests is unchanged (the rule's regular expression is still compiled when the rule is added).

Parsing a rule's text (``Rule._parse_rule``, a regular expression per segment) was then most of what was
left: a process that makes many apps (the test suite, whose in-process commands each make one) parsed the
same ~240 rule texts again for each. :class:`LazyRule` parses each text once per process and map converters,
and replays it for the next rule of the same text: the same parts, trace, arguments, and converters made
again for the rule's own map.

It overrides ``_compile_builder`` and ``_parse_rule``, private methods of werkzeug's ``Rule`` that have kept
their names and contracts through werkzeug 2.2-3.1; ``pyproject.toml`` pins werkzeug to that range and
``tests/core/test_web.py`` checks that URLs are built and matched alike and that a replayed rule is werkzeug's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from werkzeug.routing import IntegerConverter, Map, Rule

from ..db import ROW_ID_MAX


@dataclass(frozen=True)
class _Parsed:
    """What werkzeug's ``_parse_rule`` did for a rule text: the parts it yielded, what it appended to the rule's
    trace, and the converters it asked for, as (variable, converter, args, kwargs)."""

    parts: tuple[Any, ...]
    trace: tuple[tuple[bool, str], ...]
    converters: tuple[tuple[str, str, tuple, dict], ...]


#: Parsed rule texts, by text and the map's converters (a name → class mapping): at most a few hundred.
_parsed: dict[tuple[str, frozenset], _Parsed] = {}


class LazyRule(Rule):
    """A :class:`werkzeug.routing.Rule` that compiles its URL builders on first use and parses its text once per
    process."""

    _asked: list[tuple[str, str, tuple, dict]] | None = None

    def get_converter(self, variable_name: str, converter_name: str, args: tuple, kwargs: Any) -> Any:
        if self._asked is not None:
            self._asked.append((variable_name, converter_name, tuple(args), dict(kwargs)))
        return super().get_converter(variable_name, converter_name, args, kwargs)

    def _parse_rule(self, rule: str) -> Iterator[Any]:
        key = (rule, frozenset(self.map.converters.items()))
        found = _parsed.get(key)
        if found is None:
            start, self._asked = len(self._trace), []
            try:
                parts = tuple(Rule._parse_rule(self, rule))  # a malformed rule raises here, and is not kept
                found = _Parsed(parts, tuple(self._trace[start:]), tuple(self._asked))
            finally:
                self._asked = None
            if len(_parsed) < 10_000:
                _parsed[key] = found
            yield from found.parts
            return
        for variable, converter, args, kwargs in found.converters:
            self._converters[variable] = super().get_converter(variable, converter, args, kwargs)
            self.arguments.add(variable)
        self._trace.extend(found.trace)
        yield from found.parts  # werkzeug reads them only (the matcher's states, the rule's weight)

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
