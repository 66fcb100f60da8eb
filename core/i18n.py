"""Refusals in the reader's language.

A service refuses with an English sentence — what the API, the logs and the command line show, and what the
tests read — but a person on a Chinese page must read it in Chinese. So a refusal's message is a :class:`Text`:
a ``str`` (the English sentence, unchanged for every program that reads it) that also keeps its catalogue
template and parameters, made with :func:`N_`::

    raise InputError(N_("due date %(due)s has passed", due=due))

``pybabel extract`` finds the template through the ``N_`` keyword (``Makefile``'s ``translations``), and a page
shows the refusal with :func:`reason`, which looks the template up in the catalogue of the request's locale and
fills in the parameters (a parameter that is itself a :class:`Text` is translated too). A message that is not a
:class:`Text` (a plugin's plain string, a library's error) is shown as it is; ``tests/core/test_untranslated.py``
finds the ones a Chinese page would show in English.
"""

from __future__ import annotations

from typing import Any

__all__ = ["N_", "Text", "for_page", "localized", "reason"]


class Text(str):
    """An English sentence that knows its catalogue template (``%(name)s`` placeholders) and parameters."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any] | None = None) -> "Text":
        params = dict(params or {})
        # ``format(value, "")`` is what an f-string's ``{value}`` writes: the English text is the one it replaced.
        english = template % {k: format(v, "") for k, v in params.items()} if params else template
        text = super().__new__(cls, english)
        text.template, text.params = template, params
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (Celery, multiprocessing) as what it is
        return (Text, (self.template, self.params))


def N_(template: str, **params: Any) -> Text:
    """Mark ``template`` for the catalogue and fill in ``params``: the English :class:`Text` of a refusal."""
    return Text(template, params)


def localized(value: Any) -> str:
    """``value`` in the current locale: a :class:`Text` through the catalogue (its :class:`Text` parameters
    too), anything else as ``str``. Outside a request or an app with Flask-Babel, the English text."""
    if not isinstance(value, Text):
        return str(value)
    from flask import current_app, has_app_context

    if not has_app_context() or "babel" not in current_app.extensions:
        return str(value)
    from flask_babel import gettext

    if not value.params:
        return gettext(value.template)
    return gettext(value.template, **{k: localized(v) if isinstance(v, Text) else format(v, "")
                                      for k, v in value.params.items()})


def reason(exc: BaseException) -> str:
    """An exception's message for a person: its :class:`Text` translated, or its ``str``."""
    message = exc.args[0] if len(exc.args) == 1 else None
    return localized(message) if isinstance(message, Text) else str(exc)


def for_page(value: Any) -> Any:
    """Jinja's ``finalize``: what ``{{ value }}`` writes — an exception as :func:`reason`, a :class:`Text` as
    :func:`localized`, anything else unchanged."""
    if isinstance(value, Text):
        return localized(value)
    if isinstance(value, BaseException):
        return reason(value)
    return value
