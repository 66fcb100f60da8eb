"""Errors a person or a program can act on: each names the problem and, where there is one, the setting or line."""

from shangliang.core.i18n import N_


class ShangliangError(Exception):
    """Base for every error the command line reports as one line with exit status 2."""

    exit_code = 2


class ConfigError(ShangliangError):
    """A setting is missing, malformed or contradicts another one."""

    def __init__(self, message: str, setting: str | None = None, source: str | None = None):
        self.setting = setting
        self.source = source
        self.message = message  # without the setting it is about
        if setting and source:
            message = N_("%(message)s (setting: %(setting)s, in %(source)s)", message=message, setting=setting,
                         source=source)
        elif setting:
            message = N_("%(message)s (setting: %(setting)s)", message=message, setting=setting)
        super().__init__(message)


class DivisionCodeError(ConfigError):
    """A division code (node id, area) does not follow GB/T 2260 or the non-standard form."""


class UnknownPluginError(ConfigError):
    """A plugin name that no installed plugin carries."""


class ServiceUnavailable(ShangliangError):
    """The database or the broker cannot be reached."""

    def __init__(self, service: str, url: str, reason: str, setting: str):
        self.service = service
        self.setting = setting
        super().__init__(N_("%(service)s unreachable at %(url)s (setting: %(setting)s): %(reason)s", service=service,
                            url=url, setting=setting, reason=reason))


class NodeDirectoryError(ShangliangError):
    """The node directory is missing, already exists, or is not a node directory."""


class InputError(ShangliangError):
    """A value given on the command line, in a form, in an API request or in a file is not acceptable;
    ``field`` names the request field it is about, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


class ImportRowError(InputError):
    """A row of an imported file is not acceptable; nothing of that file was imported."""

    def __init__(self, path: str, line: int, message: str):
        self.path = path
        self.line = line
        super().__init__(N_("%(path)s, line %(line)s: %(message)s; nothing was imported", path=path, line=line,
                            message=message))


class NotFound(ShangliangError):
    """What was asked for (a topic, a member, …) is not on this node."""


class Conflict(ShangliangError):
    """The change collides with the state it would change (it was made already, or by someone else)."""


class IncompatiblePluginError(ConfigError):
    """A plugin whose ``REQUIRES_CORE`` does not admit this node's shangliang version."""


class DatabaseNotCurrent(ShangliangError):
    """The database (the core's tables, or an enabled plugin's) is not at the shipped head revision."""


class PluginFailed(ShangliangError):
    """An installed plugin raised an unexpected exception inside a hook: the action it was part of is refused,
    nothing of it is stored, and the node goes on serving. ``plugin`` and ``hook`` name where it happened.

    A refusal a plugin raises on purpose (any other :class:`ShangliangError`) is not turned into this one."""

    def __init__(self, plugin: str, hook: str, error: BaseException):
        self.plugin = plugin
        self.hook = hook
        self.error = error
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        super().__init__(f"plugin {plugin!r} failed in hook {hook}: {type(error).__name__}"
                         + (f": {reason}" if reason else ""))
