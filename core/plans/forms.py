"""Consultation forms (协商形式), approval steps and plan checks: the registry that plugins extend.

A form is offered through the hook ``consultation_forms``; plans and activities name forms by key.
The approval steps of an annual plan come from ``plan_approval_steps``; what a year's plan lacks for a
practice from ``plan_checks``. The built-in implementations are in ``hooks.py``; the defaults are here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from shangliang.core.errors import ConfigError, InputError
from shangliang.core.i18n import N_
from shangliang.core.plugins import flatten

KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class Form:
    """A form of consultation: its key, label (translated), what it is, how many a year the documents call
    for (``per_year``, shown, not enforced), and an optional check of a year's plan items."""

    key: str
    label: Any
    description: str = ""
    per_year: int | None = None
    #: (items, config) -> what the year's plan lacks for this form, one line each
    check: Callable[[Sequence[Mapping[str, Any]], Mapping[str, Any]], list[str] | None] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": str(self.label), "description": self.description,
                "per_year": self.per_year}


@dataclass(frozen=True)
class ApprovalStep:
    """One step of a plan's approval: its key, label, the body that takes it, whether it must cite a
    document or minute (``reference_required``)."""

    key: str
    label: Any
    body: str
    reference_required: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": str(self.label), "body": self.body,
                "reference_required": self.reference_required}


@dataclass(frozen=True)
class PlanCheck:
    """A check of a plan against a practice: the rule, whether it is met, what is short; ``blocks``: the
    plan is not published while it is not met."""

    rule: str
    met: bool
    detail: str = ""
    blocks: bool = False
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "met": self.met, "detail": self.detail, "blocks": self.blocks,
                "source": self.source}


def _counterpart(items: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> list[str]:
    """对口协商: each pair of a special committee and a department named in ``[plans] counterpart_pairs``
    has at least one counterpart consultation in the year (``001`` 14)."""
    pairs = config.get("PLANS_COUNTERPART_PAIRS") or []
    held = {(item.get("lead") or "", department) for item in items if item.get("form") == "counterpart"
            for department in (item.get("participants") or {}).get("departments", [])}
    return [f"no counterpart consultation (对口协商) planned between {committee} and {department}"
            for committee, department in (pair.split("|", 1) for pair in pairs) if (committee, department) not in held]


#: The forms of DOMAIN.md "The work objects" 4 (``001`` 10-16, ``000``, ``003``), in the order people list them.
DEFAULT_FORMS = (
    Form("plenary", _l("Plenary session consultation"), "全体会议协商", 1),
    Form("standing_committee", _l("Special-topic standing committee session"), "专题议政性常委会", 2),
    Form("special", _l("Special consultation meeting"), "专题协商会", 2),
    Form("forum", _l("Quarterly or bi-monthly forum"), "季度/双月协商座谈会", 4),
    Form("counterpart", _l("Counterpart consultation with a department"), "对口协商", None, _counterpart),
    Form("sector", _l("Sector consultation"), "界别协商"),
    Form("proposal_handling", _l("Proposal-handling consultation"), "提案办理协商"),
    Form("grassroots", _l("Grassroots consultation"), "基层协商"),
    Form("online", _l("Online consultation"), "网络协商"),
    Form("remote", _l("Remote consultation"), "远程协商"),
)

#: The steps of ``001`` 9: the chair meeting reviews the draft, the party committee's standing committee decides.
DEFAULT_STEPS = (
    ApprovalStep("chair_meeting", _l("Chair meeting review"), "政协主席会议"),
    ApprovalStep("standing_committee", _l("Party standing committee decision"), "党委常委会"),
)


def registry(pm: Any) -> dict[str, Form]:
    """Every form this node offers, by key (hook ``consultation_forms``); two forms with one key refused."""
    found: dict[str, Form] = {}
    for form in flatten(pm.hook.consultation_forms()):
        if not isinstance(form, Form) or not form.key or not set(form.key) <= KEY_CHARS or len(form.key) > 40:
            raise ConfigError(N_("a plugin offered %(form)s as a consultation form; a form is a "
                                 "shangliang.core.plans.forms.Form with a key of 1 to 40 of a-z, 0-9, _",
                                 form=repr(form)), "plugins.enabled")
        if form.key in found:
            raise ConfigError(N_("two consultation forms have the key %(key)s", key=repr(form.key)), "plugins.enabled")
        found[form.key] = form
    return found


def form_of(pm: Any, key: Any, field: str = "form") -> Form:
    """The form ``key``; ``InputError`` listing the forms there are."""
    forms = registry(pm)
    if not isinstance(key, str) or key not in forms:
        raise InputError(N_("unknown consultation form %(key)s; forms: %(forms)s", key=repr(str(key)[:40]),
                            forms=', '.join(forms)), field=field)
    return forms[key]


def approval_steps(pm: Any, config: Mapping[str, Any]) -> list[ApprovalStep]:
    """The approval steps in order (hook ``plan_approval_steps``), keys unique."""
    steps = list(pm.hook.plan_approval_steps(config=config) or ())
    keys = [s.key for s in steps]
    if not steps or not all(isinstance(s, ApprovalStep) for s in steps) or len(set(keys)) != len(keys):
        raise ConfigError(N_("the plan approval steps (hook plan_approval_steps) must be a non-empty list of "
                             "ApprovalStep with distinct keys"), "plugins.enabled")
    return steps
