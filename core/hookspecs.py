"""Hook specifications: the points where plugins extend a node.

Every hook is documented with when it is called, its parameters, its return value and how results
are combined. ``docs/plugins.md`` documents each one with an example; a test fails when a hook here
is missing there. Hooks are added to, never renamed; an implementation may take fewer arguments
than its specification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from sqlalchemy.orm import Session

    from .settings import Setting
    from .context import NodeContext
    from .work import WorkItem

hookspec = pluggy.HookspecMarker("shangliang")


# -------------------------------------------------------------------------
# The plugin host
# -------------------------------------------------------------------------


@hookspec(historic=True)
def add_hookspecs(pm: pluggy.PluginManager) -> None:
    """Add hook specifications of your own, so that other plugins can implement them (pytest's
    ``pytest_addhooks``).

    Called once for every plugin as it is registered (a historic hook: a plugin registered later
    is called too), before the manager checks that every implemented hook exists.

    :param pm: the node's plugin manager; call ``pm.add_hookspecs(module)``.
    :return: ignored.

    All implementations are called. The federation layer adds ``shangliang.federation.hookspecs``
    this way.
    """


@hookspec
def declare_settings() -> list[Setting] | None:
    """Declare the settings of a built-in feature, each with its default and its check.

    Called once per process, on the built-in plugins only, when a node's configuration is read:
    a setting ``Setting("topics", "overdue_seconds", 300, …)`` is ``[topics] overdue_seconds`` in
    ``node.toml``, ``SHANGLIANG_TOPICS_OVERDUE_SECONDS`` in the environment and
    ``TOPICS_OVERDUE_SECONDS`` in the app's configuration. (Installed plugins declare theirs as
    ``CONFIG_DEFAULTS``, under ``[plugins.<name>]``.)

    :return: a list of ``shangliang.core.settings.Setting``, or None.

    All implementations are called; two settings with one name are refused. A value a check
    refuses stops the node with a ``ConfigError`` naming the setting.
    """


# -------------------------------------------------------------------------
# Node lifecycle
# -------------------------------------------------------------------------


@hookspec
def node_created(session: Session, node: NodeContext) -> None:
    """A node directory is being created (``shangliang init``): set up what you keep for it.

    Called once, in the transaction that creates the node, after its database is migrated;
    ``node.node_dir`` is the directory being created (it takes its final name only if init
    succeeds). The federation layer makes the node's signing key here.

    :param session: the session of the init transaction.
    :param node: the new node's context.
    :return: ignored.

    All implementations are called; an exception aborts init and leaves nothing behind.
    """


@hookspec
def node_configured(config: Mapping[str, Any], plugin_config: Mapping[str, Any]) -> list[str] | None:
    """The node's configuration is loaded and validated; refuse it if it does not suit you.

    Called once per app by ``create_app``, after the plugins are registered and before plugin
    blueprints are, and once by the command line before it adds plugin commands.

    :param config: the node's validated configuration (``NODE_ID``, ``NODE_LEVEL``,
        ``NODE_PARENT``, ``PUBLIC_URL``, ``HOLIDAYS``, …); read-only.
    :param plugin_config: this node's settings for plugins: ``{plugin name: {setting: value}}``, each
        plugin's declared ``CONFIG_DEFAULTS`` merged under the node's ``[plugins.<name>]`` table.
    :return: a list of problems (one line each, naming the setting), or None when all is well.

    All implementations are called; their lists are joined. Any problem stops the node from
    starting with a ``ConfigError`` that lists them.
    """


@hookspec
def register_blueprints(app: Flask) -> Blueprint | list[Blueprint] | None:
    """Give the web app your Flask blueprints.

    Called once per app by ``create_app``, after the core blueprints are registered.

    :param app: the Flask app being built (its plugin manager is ``app.extensions["shangliang.plugins"]``).
    :return: a blueprint, a list of blueprints, or None.

    All implementations are called; every blueprint returned is registered.
    """


@hookspec
def register_commands(cli: click.Group) -> click.Command | list[click.Command] | None:
    """Add commands to the ``shangliang`` command line of a node where you are enabled.

    Called when the command line lists or looks up commands: for the built-in plugins always, for
    an installed plugin when the node directory given enables it.

    :param cli: the root command group (read-only: return commands rather than adding them).
    :return: a click command or group, a list of them, or None.

    All implementations are called. A command named like a core command is refused.
    Commands that need the app use ``shangliang.core.cli.with_appcontext``.
    """


@hookspec
def beat_schedule(config: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]] | None:
    """Declare periodic tasks for ``shangliang beat`` (and the beat that ``serve`` runs).

    Called once per app, after plugins are loaded, to build Celery's ``beat_schedule``.

    :param config: the node's validated configuration.
    :return: ``{entry name: {"task": task name, "schedule": seconds or celery.schedules.crontab,
        "args": (...), "kwargs": {...}}}`` or None.

    All implementations are called and their entries merged; two entries with one name are refused.
    """


@hookspec
def nav_items() -> list[tuple[str, str]] | None:
    """Add entries to the navigation bar of every page.

    Called when a page is rendered.

    :return: a list of ``(label, endpoint)``: the label translated (``flask_babel.lazy_gettext``),
        the endpoint of a page without URL arguments (``"topics.index"``); or None.

    All implementations are called; the entries appear in the order the plugins were registered
    (built-ins first).
    """


@hookspec
def workbench_items(session: Session, user: Any, node: NodeContext) -> list[WorkItem] | None:
    """What waits for ``user`` on this node: the home page's workbench and ``GET /api/v1/workbench``.

    Called when a signed-in person opens the home page or asks the API.

    :param session: the request's database session (read only).
    :param user: the signed-in user (``id``, ``username``, ``role``, ``member_id``).
    :param node: the node's context.
    :return: ``shangliang.core.work.WorkItem`` objects, one per kind of work your feature or practice
        has waiting for this user (its ``key``, translated ``label``, ``count``, ``url``, the first
        ``work.ENTRIES`` entries, ``urgent`` when one is past its deadline, optionally an ``action``
        form to start new work from); an empty list or None when nothing is theirs.

    All implementations are called; the items are shown urgent first, then those with a count, then the
    rest, each group in the order the plugins were registered. Decide by ``user.role`` what is theirs:
    the handling-unit rule (only what is assigned to their unit) applies here as everywhere.
    """


# -------------------------------------------------------------------------
# Observers
# -------------------------------------------------------------------------


@hookspec
def audit_event_recorded(event: Mapping[str, Any]) -> None:
    """A change was committed and its audit row written.

    Called after the transaction that wrote the row commits, once per row, in chain order.

    :param event: ``seq``, ``at_ms``, ``actor``, ``action`` (``insert``, ``update``, ``delete`` or a
        named action such as ``plugin.enable``), ``entity`` (table or object kind), ``entity_id``,
        ``data`` (the values, or ``{column: [old, new]}`` for an update), ``prev_hash``, ``hash``.
    :return: ignored.

    All implementations are called. Do not write to the database in the caller's session here.
    """


@hookspec
def deliver_notification(notification: Mapping[str, Any]) -> str | None:
    """Deliver a notification through your channel (SMS, e-mail, a messaging app, …).

    Called by the ``shangliang.core.deliver_notification`` Celery task, in a worker, once per
    notification.

    :param notification: ``id``, ``recipient_role``, ``recipient_user_id``, ``recipients``
        (list of ``{"username", "display_name"}``), ``subject``, ``body``, ``source``, ``created_at``.
    :return: the name of your channel when you delivered it, or None when you did not.

    All implementations are called; the channels that answered are recorded on the notification.
    The built-in ``inbox`` channel (the web interface's inbox) is ``trylast``.
    """


@hookspec(firstresult=True)
def notification_recipients(role: str | None, user_id: int | None) -> list[dict[str, str]] | None:
    """Say who a notification reaches: the active users with ``role``, or the user ``user_id``.

    Called by the delivery task before ``deliver_notification``.

    :param role: the role the notification is for, or None.
    :param user_id: the user it is for, or None.
    :return: a list of ``{"username", "display_name"}``, or None to leave it to the next
        implementation.

    Stops at the first non-None result. The users feature answers it.
    """


# -------------------------------------------------------------------------
# Who signs in
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def load_user(user_id: str) -> Any:
    """The signed-in user with this id (Flask-Login's user loader).

    Called on every request of a signed-in session.

    :param user_id: the id the session carries (what ``start_session`` gave).
    :return: an active user object with Flask-Login's protocol and a ``role``, or None.

    Stops at the first non-None result. The users feature answers it.
    """


@hookspec
def audit_commands() -> list[click.Command] | None:
    """Commands under ``shangliang audit`` beside the core's ``verify`` and ``list``.

    Called when the command line lists or looks up ``audit`` commands (built-in plugins only).

    :return: click commands, or None. A name the core uses already is refused.

    All implementations are called. The federation adds ``anchor`` and ``children``.
    """


@hookspec(firstresult=True)
def audit_anchor(session: Any) -> dict | None:
    """The last head of this node's audit chain that another node keeps (its anchor), fetched now.

    Called by ``audit verify --against-parent``.

    :param session: the command's database session.
    :return: ``{"seq", "hash", "anchored_ms", "holder"}``, or None when no node keeps one; raise a
        ``ShangliangError`` naming the reason when it cannot be fetched.

    Stops at the first non-None result. The federation answers it: it asks the parent
    (``GET /federation/v1/anchors/<this node>``) and checks the parent's signature.
    """


@hookspec(firstresult=True)
def start_session(user: Any) -> str | None:
    """Begin a signed-in session for ``user`` (who has just given the right password), kept on the node.

    Called once per sign-in on the sign-in page, inside the sign-in's write transaction.

    :param user: the user ``check_credentials`` answered.
    :return: the id the session cookie carries and ``load_user`` receives; None to refuse the sign-in.

    Stops at the first non-None result. The users feature answers it: a random token whose hash it
    keeps, valid for ``[users] session_hours``.
    """


@hookspec
def end_session(user_id: str) -> None:
    """End the signed-in session whose cookie carries ``user_id``: the same cookie, sent again, no longer
    signs anyone in.

    Called on signing out, inside a write transaction.

    :param user_id: the id ``start_session`` gave.

    The users feature answers it (deleting the kept session).
    """


@hookspec(firstresult=True)
def check_credentials(username: str, password: str) -> Any:
    """The active user with this user name and password, for the sign-in page and HTTP Basic.

    Called once per sign-in and once per API request sent with HTTP Basic.

    :param username: the name given.
    :param password: the password given.
    :return: the user object (as ``load_user`` returns it) when they match, or None.

    Stops at the first non-None result. The users feature answers it.
    """


# -------------------------------------------------------------------------
# Topics (协商议题)
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def route_topic(topic: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """Say where a topic belongs and what this node should do with it.

    Called when a topic is raised on this node and whenever its page or ``topics show`` asks for a
    suggestion. Staff decide; the suggestion is shown with its reason.

    :param topic: the topic as ``shangliang.core.topics.models.Topic.as_dict`` gives it (``uid``,
        ``areas``, ``category``, ``stage``, ``holder``, …).
    :param config: the node's configuration (``NODE_ID``, ``NODE_LEVEL``, …).
    :return: a ``shangliang.core.topics.routing.Route(belongs_to, action, to, reason)`` with
        ``action`` one of ``keep``, ``escalate`` (``to`` the parent) or ``delegate`` (``to`` a child),
        or None to leave the decision to the next implementation.

    Stops at the first non-None result. The built-in (lowest common parent of the areas) is
    ``trylast``.
    """


@hookspec
def topic_transition_guard(topic: Mapping[str, Any], from_stage: str, to_stage: str) -> list[str] | None:
    """Block a stage change (六步议事) that your practice does not allow yet.

    Called before a topic held here moves from ``from_stage`` to ``to_stage``.

    :param topic: the topic as ``Topic.as_dict`` gives it, with its ``events`` (what happened so far).
    :param from_stage: the current stage.
    :param to_stage: the stage asked for.
    :return: reasons (one line each) that block the change, shown to the person who asked; or None.

    All implementations are called; any reason refuses the change and nothing is stored. The
    built-in guard lets a topic move one stage at a time, in order.
    """


@hookspec
def topic_stage_changed(topic: Mapping[str, Any], from_stage: str, to_stage: str, actor: str) -> None:
    """A topic's stage changed on this node.

    Called after the transaction that changed it commits.

    :param topic: the topic as ``Topic.as_dict`` gives it, after the change.
    :param from_stage: the stage it left.
    :param to_stage: the stage it entered.
    :param actor: who changed it (``cli:<user>``, a user name, ``worker``).
    :return: ignored.

    All implementations are called.
    """


@hookspec
def topic_result_recorded(session: Session, node: NodeContext, topic: Any, result: Mapping[str, Any],
                          actor: str) -> None:
    """A consultation's result was recorded for a topic held here (反馈), in the transaction that records it.

    :param session: the transaction's session: what an implementation writes is stored with the result, or
        (on a refusal it raises) nothing is.
    :param node: this node's context.
    :param topic: the ``Topic`` row, closed with its result.
    :param result: the result as recorded (kind, title, summary, measures, handling_units).
    :param actor: who recorded it.
    :return: ignored.

    All implementations are called.
    """


# -------------------------------------------------------------------------
# Annual plans (年度协商计划) and consultation forms (协商形式)
# -------------------------------------------------------------------------


@hookspec
def consultation_forms() -> list[Any] | None:
    """Offer forms of consultation (协商形式) that plans and activities may use.

    Called when a plan item or an activity names its form, and for the form lists of pages,
    the API and commands.

    :return: a list of ``shangliang.core.plans.forms.Form(key, label, description, per_year,
        check)``; ``check(items, config)`` (optional) reads the plan's items (as ``PlanItem.as_dict``
        gives them) and returns what the year's plan lacks for this form, one line each.

    All implementations are called; the built-in plans feature offers the ten forms of DOMAIN.md
    (plenary, standing committee session, special consultation, forum, counterpart, sector,
    proposal handling, grassroots, online, remote). Two forms with one key refuse the node's start.
    """


@hookspec(firstresult=True)
def plan_approval_steps(config: Mapping[str, Any]) -> list[Any] | None:
    """Give the approval steps an annual plan takes, in order, between its draft and its publication.

    Called whenever a plan's approval is shown or a step is recorded.

    :param config: the node's configuration (a plugin's own settings are under
        ``config["PLUGIN_SETTINGS"][name]``).
    :return: a list of ``shangliang.core.plans.forms.ApprovalStep(key, label, body,
        reference_required)``; or None to leave the steps to the next implementation.

    Stops at the first non-None result. The built-in (``trylast``) gives the two steps of DOMAIN.md:
    the chair meeting's review (主席会议审议) and the party committee standing committee's decision
    (党委常委会研究确定); publication follows the last step. A practice replaces or inserts steps by
    returning its own list.
    """


@hookspec
def plan_checks(plan: Mapping[str, Any], config: Mapping[str, Any]) -> list[Any] | None:
    """Check a plan against a practice's yearly numbers and show what is short.

    Called when a plan is shown (page, API, ``plans show``) and before it is published.

    :param plan: the plan as ``Plan.as_dict`` gives it, with its ``items``.
    :param config: the node's configuration.
    :return: a list of ``shangliang.core.plans.forms.PlanCheck(rule, met, detail, blocks)``:
        ``blocks`` true refuses publication while the check is not met; or None.

    All implementations are called; no built-in implements it. Each form's own ``check`` runs beside
    them (the plans service), so a plan shows both.
    """


@hookspec
def plan_guard(plan: Mapping[str, Any], action: str, step: str | None, fields: Mapping[str, Any],
               config: Mapping[str, Any]) -> list[str] | None:
    """Refuse a change to a plan that your practice does not allow.

    Called before ``action`` (``add_item``, ``step``, ``publish``, ``amend``) changes a plan, under its
    lock, with what the change would record.

    :param plan: the plan as ``Plan.as_dict`` gives it, with its ``items`` and ``steps``.
    :param action: what is asked.
    :param step: the approval step's key for ``step``, else None.
    :param fields: the change's fields as given (the step's ``approver``, ``reference``, ``opinion``,
        ``decision``; an item's ``form``, ``participants``, …).
    :param config: the node's configuration.
    :return: reasons (one line each) that refuse the change; or None.

    All implementations are called; any reason refuses the change and nothing is stored.
    """


@hookspec
def plan_published(plan: Mapping[str, Any], actor: str) -> None:
    """An annual plan was published on this node (its last approval step taken, its checks met).

    Called after the transaction that published it commits.

    :param plan: the plan as ``Plan.as_dict`` gives it, after publication, with its ``items``, ``steps``
        and ``amendments``.
    :param actor: who published it (``cli:<user>``, ``web:<user>``, ``api:<user>``).
    :return: ignored.

    All implementations are called; no built-in implements it.
    """


# -------------------------------------------------------------------------
# Consultation activities (协商活动)
# -------------------------------------------------------------------------


@hookspec
def activity_guard(activity: Mapping[str, Any], action: str, fields: Mapping[str, Any],
                   config: Mapping[str, Any]) -> list[str] | None:
    """Refuse a step of a consultation activity that your practice does not allow.

    Called before ``action`` (``create``, ``invite``, ``attend``, ``opinion``, ``close``, …) changes an
    activity, under its lock.

    :param activity: the activity as ``Activity.as_dict`` gives it, with its invitations, research,
        opinions and topics.
    :param action: what is asked.
    :param fields: the change's fields as given.
    :param config: the node's configuration.
    :return: reasons (one line each) that refuse the change; or None.

    All implementations are called; any reason refuses the change and nothing is stored.
    """


@hookspec
def activity_closed(activity: Mapping[str, Any], actor: str) -> None:
    """A consultation activity was closed here (its minutes published, its topics' loop told).

    Called after the transaction that closed it commits.

    :param activity: the activity as ``Activity.as_dict`` gives it, after closing.
    :param actor: who closed it.
    :return: ignored.

    All implementations are called.
    """


# -------------------------------------------------------------------------
# Supervision (督办) of what is overdue: topics, results' implementation, proposals
# -------------------------------------------------------------------------


@hookspec
def item_overdue(session: Session, item: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Something held here has just become overdue: tell whoever follows it.

    Called inside the transaction that marks it overdue (so a notification stored here commits or
    rolls back with the mark), once per item and per time it becomes overdue.

    :param session: the transaction's database session (for ``shangliang.core.notifications.notify``).
    :param item: ``kind`` (``topic``, ``implementation`` — a unit's part of a result's implementation —
        ``proposal`` or ``rectification`` — a unit's rectification after a democratic appraisal),
        ``ref`` (the topic's uid, the proposal's number, or ``<appraisal uid>/<subject id>``), ``title``, ``due_ms``,
        ``unit`` (the handling unit's name, or None) and ``areas`` (the division codes it concerns,
        possibly empty).
    :param config: the node's configuration.
    :return: ignored.

    All implementations are called. The built-in marking already tells the office; the
    ``leader_follow_up`` practice tells the leader who follows the unit or the area (领导包抓).
    """


# -------------------------------------------------------------------------
# Proposals (提案)
# -------------------------------------------------------------------------


@hookspec
def proposal_guard(proposal: Mapping[str, Any], action: str, fields: Mapping[str, Any],
                   config: Mapping[str, Any]) -> list[str] | None:
    """Refuse a step of a proposal that your practice does not allow yet.

    Called before ``action`` (``submit``, ``review``, ``assign``, ``reply``, ``rate``, ``publish``,
    ``close``, …) changes a proposal, under its lock.

    :param proposal: the proposal as ``Proposal.as_dict`` gives it, with its signers, assignments,
        replies, contacts and ratings.
    :param action: what is asked.
    :param fields: the change's fields as given.
    :param config: the node's configuration.
    :return: reasons (one line each) that refuse the change; or None.

    All implementations are called; any reason refuses the change and nothing is stored.
    """


# -------------------------------------------------------------------------
# Members' duty records (委员履职档案)
# -------------------------------------------------------------------------


@hookspec
def duty_record_items(session: Session, node: NodeContext, member: Mapping[str, Any],
                      year: int) -> list[Mapping[str, Any]] | None:
    """The items of a member's duty record for a year that your feature or practice knows.

    Called when a member's duty record is built (its page, the API, the yearly assessment): the record
    is what the node already knows, never typed twice.

    :param session: the node's database session (read only: do not change anything).
    :param node: the node's context.
    :param member: the member — ``id``, ``member_no``, ``name`` (this node's member register).
    :param year: the calendar year, on the node's time zone.
    :return: items, each a mapping with ``kind`` (``attendance``, ``speech``, ``proposal``,
        ``social_opinion``, ``adoption``, ``research``, ``consultation_home``, ``work_station``, … — a
        short word), ``title``, ``date`` (``YYYY-MM-DD``), ``source`` (the feature or practice that
        knows it) and ``ref`` (its id or uid there), and optionally ``detail``; or None.

    All implementations are called; the items are joined in date order.
    """


# -------------------------------------------------------------------------
# The yearly assessment of members' duty (履职考核)
# -------------------------------------------------------------------------


@hookspec
def assessment_rules(config: Mapping[str, Any]) -> list[Any] | None:
    """The rules your practice assesses members' duty records by, each year.

    Called when the yearly assessment is made (its page, the API, the export, the reminder).

    :param config: the node's configuration.
    :return: rule objects (``shangliang.core.duty.rules.Rule``: a ``key``, a ``label`` and
        ``check(record, history)`` that reads the member's record — ``items`` in date order, each with
        ``kind``, ``title``, ``date``, ``source``, ``ref`` — and returns ``Outcome(met, reason)``;
        ``history(year)`` gives the same member's record for another year, for a rule over a term); or None.

    All implementations are called; a member meets the assessment when every rule is met. A rule whose
    check raises is reported as a rule failure for that member (never an error of the page). The node has
    no rule of its own: with no practice enabled, no member is assessed.
    """


# -------------------------------------------------------------------------
# Democratic appraisal (民主评议)
# -------------------------------------------------------------------------


@hookspec
def appraisal_subject_candidates(session: Session, node: NodeContext,
                                 appraisal: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """Subjects your practice proposes for a year's appraisal that was just created here.

    Called inside the transaction that creates the appraisal; what you return is stored as subjects
    ``proposed``, each awaiting the office's confirmation (confirm or dismiss).

    :param session: the transaction's database session (read what you need; store nothing yourself).
    :param node: the node's context.
    :param appraisal: the appraisal as ``services.detail`` gives it: ``id``, ``year``, ``kind``
        (``departments`` or ``key_topics``), ``title``, ``subjects`` (none yet).
    :return: candidates, each a mapping with ``topic`` (a topic uid with a result) or ``unit`` (a
        handling unit's name or id), or both; ``source`` (your practice's name) and optionally ``note``;
        or None.

    All implementations are called; a candidate already a subject is left out; a bad candidate
    (an unknown topic or unit, a topic without a result) refuses the creation and nothing is stored.
    """
