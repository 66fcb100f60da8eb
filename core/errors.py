"""Errors a person or a program can act on: each names the problem and, where there is one, the setting or line."""


class ShangliangError(Exception):
    """Base for every error the command line reports as one line with exit status 2."""

    exit_code = 2


class ConfigError(ShangliangError):
    """A setting is missing, malformed or contradicts another one."""

    def __init__(self, message: str, setting: str | None = None, source: str | None = None):
        self.setting = setting
        self.source = source
        where = ""
        if setting:
            where = f" (setting: {setting}" + (f", in {source}" if source else "") + ")"
        super().__init__(message + where)


class DivisionCodeError(ConfigError):
    """A division code (node id, area) does not follow GB/T 2260 or the non-standard form."""


class UnknownPluginError(ConfigError):
    """A plugin name that no installed plugin carries."""


class ServiceUnavailable(ShangliangError):
    """The database or the broker cannot be reached."""

    def __init__(self, service: str, url: str, reason: str, setting: str):
        self.service = service
        self.setting = setting
        super().__init__(f"{service} unreachable at {url} (setting: {setting}): {reason}")


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
        super().__init__(f"{path}, line {line}: {message}; nothing was imported")


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
