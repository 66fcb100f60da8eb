"""``shangliang plugins new NAME --level LEVEL``: write a plugin distribution of its own, ready to ``pip install -e``.

What it writes (``DIR/NAME/``), every file where an installed plugin expects it (docs/plugins.md, "Writing a
plugin, step by step")::

    pyproject.toml              # setuptools; entry point [project.entry-points."shangliang.plugins"] NAME
    shangliang_NAME/__init__.py # docstring (what `plugins list` shows), NAME, CONFIG_DEFAULTS, the hooks
    shangliang_NAME/services.py # NAME, CONFIG_DEFAULTS, check_settings()
    shangliang_NAME/hooks.py    # node_configured: refuses a bad `greeting`, naming the setting
    shangliang_NAME/README.md   # the practice, its rule, its settings, how to enable it
    tests/test_NAME.py          # its own test: the check, and the host loading the installed plugin

The name (not one a built-in or installed plugin carries) and the level are checked first; nothing is written
when either is refused or the target exists.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from pathlib import Path
from shangliang.core.i18n import N_

from .errors import InputError

#: The levels a practice belongs to (the folders of ``plugins/``).
LEVELS = ("province", "city", "county", "township")
#: A plugin name: a Python identifier in lower case that also fits a message kind ``x-<plugin>.<name>``
#: (``federation/kinds.py`` PLUGIN_KIND: at most 32 of a-z, 0-9, _).
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")


class ScaffoldError(InputError):
    """``plugins new`` refused: nothing was written."""


class BadPluginName(ScaffoldError):
    """The name is not a lower-case identifier of at most 32 characters."""


class UnknownLevel(ScaffoldError):
    """The level is not one of LEVELS."""


class NameTaken(ScaffoldError):
    """A built-in plugin or an installed one carries the name already: the node could not tell them apart."""


class TargetExists(ScaffoldError):
    """The folder the plugin would be written to exists already."""


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or "") or keyword.iskeyword(name) or name.endswith("_"):
        raise BadPluginName(N_("plugin name %(name)s is not a lower-case identifier: a letter, then up to 31 "
                               "letters, digits or _ (not ending with _, not a Python keyword), e.g. village_greeting",
                               name=repr(name)), "name")
    return name


def check_free(name: str) -> str:
    from .plugins import BUILTIN_PLUGINS, builtin_name, installed_plugins

    if name in {builtin_name(module) for module in BUILTIN_PLUGINS}:
        raise NameTaken(N_("plugin name %(name)s is a built-in plugin's; choose another", name=repr(name)), "name")
    installed = installed_plugins().get(name)
    if installed is not None:
        raise NameTaken(N_("plugin name %(name)s is taken by the installed plugin %(value)s; choose another",
                           name=repr(name), value=installed.value),
                        "name")
    return name


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise UnknownLevel(N_("unknown level %(level)s; levels: %(levels)s", level=repr(level),
                              levels=', '.join(LEVELS)), "level")
    return level


def module_name(name: str) -> str:
    """The plugin's import package: ``shangliang_<name>`` (never shadows another top-level package)."""
    return f"shangliang_{name}"


def files(name: str, level: str) -> dict[str, str]:
    """Path (relative to the distribution's folder) → text, for every file of a new plugin."""
    check_name(name)
    check_level(level)
    package = module_name(name)
    values = {"NAME": name, "LEVEL": level, "PACKAGE": package, "DIST": f"shangliang-{name.replace('_', '-')}",
              "REQUIRES_CORE": _requires_core()}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        return text.lstrip("\n")

    return {
        "pyproject.toml": fill(PYPROJECT),
        f"{package}/__init__.py": fill(INIT),
        f"{package}/services.py": fill(SERVICES),
        f"{package}/hooks.py": fill(HOOKS),
        f"{package}/README.md": fill(README),
        f"tests/test_{name}.py": fill(TEST),
    }


def _requires_core() -> str:
    """The core versions a new plugin is made for: this core's minor version up to its next major one."""
    from packaging.version import Version

    from .plugins import core_version

    version = Version(core_version())
    return f">={version.major}.{version.minor},<{version.major + 1}"


def new_plugin(name: str, level: str, directory: Path | str = ".") -> Path:
    """Write the distribution of a new plugin ``name`` of ``level`` to ``directory/name``; return that folder.
    Refused (``ScaffoldError``), with nothing written, for a bad name or level, a name a built-in or installed
    plugin carries, or an existing target."""
    contents = files(name, level)
    check_free(name)
    target = Path(directory) / name
    if target.exists():
        raise TargetExists(N_("%(target)s exists already; choose another --dir or name (nothing was written)",
                              target=target), "dir")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed into place: a failure half-way leaves no half-written plugin.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        for relative, text in contents.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        staging.chmod(0o777 & ~_umask())
        try:
            staging.rename(target)
        except OSError:
            raise TargetExists(N_("%(target)s exists already; choose another --dir or name (nothing was written)",
                                  target=target),
                               "dir") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- the files ---------------------------------------------------------------------------------------------

PYPROJECT = '''
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "{{DIST}}"
version = "0.1.0"
description = "{{NAME}}: a {{LEVEL}}-level local practice for Shangliang nodes."
readme = "{{PACKAGE}}/README.md"
requires-python = ">=3.11"
dependencies = ["shangliang"]

# How a node finds the plugin: installed is not enabled (`shangliang plugins enable {{NAME}}`).
[project.entry-points."shangliang.plugins"]
{{NAME}} = "{{PACKAGE}}"

[tool.setuptools]
packages = ["{{PACKAGE}}"]

[tool.setuptools.package-data]
"{{PACKAGE}}" = ["README.md"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

INIT = '''
"""{{NAME}}: a {{LEVEL}}-level practice (describe it in one line: `shangliang plugins list` shows this line)."""

# The entry point names this package and pluggy registers it: the hook implementations are its attributes.
# NAME, LEVEL (shown by `plugins list`) and CONFIG_DEFAULTS live in services.py (no module of the package
# imports the package itself).
from .hooks import node_configured
from .services import CONFIG_DEFAULTS, LEVEL, NAME

# The core versions this plugin is made for (checked at `plugins enable` and at start-up; docs/plugins.md,
# "Core versions").
REQUIRES_CORE = "{{REQUIRES_CORE}}"

__all__ = ["CONFIG_DEFAULTS", "LEVEL", "NAME", "REQUIRES_CORE", "node_configured"]
'''

SERVICES = '''
"""The rules of {{NAME}}: its settings and the plain functions that decide (no Flask request code here)."""

from __future__ import annotations

from typing import Any, Mapping

NAME = "{{NAME}}"
LEVEL = "{{LEVEL}}"

#: Every setting the plugin accepts, with its default; the node's [plugins.{{NAME}}] table is merged over it.
CONFIG_DEFAULTS: dict[str, Any] = {
    # A line the practice shows or sends; not blank, at most 200 characters.
    "greeting": "欢迎参加协商议事",
}


def setting(name: str) -> str:
    return f"plugins.{NAME}.{name}"


def check_settings(values: Mapping[str, Any]) -> list[str]:
    """Problems with this plugin's settings, one line each, naming the setting."""
    greeting = values.get("greeting")
    if not isinstance(greeting, str) or not greeting.strip() or len(greeting) > 200:
        return [f"must be a non-empty text of at most 200 characters (setting: {setting('greeting')})"]
    return []
'''

HOOKS = '''
"""The hooks of {{NAME}}, thin: they call services. docs/plugins.md lists every hook."""

from __future__ import annotations

from shangliang.core.plugins import hookimpl

from . import services


@hookimpl
def node_configured(config, plugin_config):
    # At start-up and on `plugins enable`: a bad setting stops the node (or the enable) and names it.
    return services.check_settings(plugin_config[services.NAME]) or None
'''

README = '''
# `{{NAME}}` — a {{LEVEL}}-level practice

**Source.** Where the practice comes from (the document and its section).

**Rule.** What the plugin enforces or adds, and what a node does without it.

**Settings** (`[plugins.{{NAME}}]` in `node.toml`; a wrong value stops the node naming the setting):

| setting | default | meaning |
|---|---|---|
| `greeting` | `"欢迎参加协商议事"` | a non-empty text of at most 200 characters |

**Adds.** Hook `node_configured` (checks `greeting`).

**Enable.**

```sh
pip install -e .                       # from this folder: the node finds it through its entry point
shangliang --node DIR plugins enable {{NAME}}
python -m pytest tests                 # its own test
```
'''

TEST = '''
"""{{NAME}}'s own test: its settings check, and the node's plugin host loading it as installed."""

from shangliang.core.plugins import create_plugin_manager, installed_plugins, plugin_config

import {{PACKAGE}}
from {{PACKAGE}} import services


def test_the_default_settings_are_accepted():
    assert services.check_settings(services.CONFIG_DEFAULTS) == []


def test_a_blank_greeting_is_refused_naming_the_setting():
    problems = services.check_settings({"greeting": "  "})
    assert len(problems) == 1 and "plugins.{{NAME}}.greeting" in problems[0]


def test_the_host_finds_loads_and_runs_it():
    assert installed_plugins()["{{NAME}}"].value == "{{PACKAGE}}"    # the entry point (pip install -e .)
    pm = create_plugin_manager(["{{NAME}}"])                          # as a node that enables it
    assert pm.get_plugin("{{NAME}}") is {{PACKAGE}}
    settings = plugin_config(pm, {"{{NAME}}": {"greeting": ""}})
    problems = [line for found in pm.hook.node_configured(config={}, plugin_config=settings) if found
                for line in found]
    assert problems == ["must be a non-empty text of at most 200 characters (setting: plugins.{{NAME}}.greeting)"]
'''
