"""The configuration file in the CLI: every command's defaults from it, and `dbwright config show`.

The root callback calls ``apply_config``: it loads the project's configuration (``--config``,
``DBWRIGHT_CONFIG``, else dbwright.toml or ``[tool.dbwright]`` upward from the current folder) and
turns the file's settings into click's ``default_map``, so an option the user types still wins
(flag > environment > file > default). The review and the audit get the rest (turned-off checks,
severities, thresholds, ignores) through ``active_config()``, passed to ``api.review``/``api.audit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbwright import api
from dbwright.cli.common import TextOrJsonOpt, emit_json

if TYPE_CHECKING:
    from dbwright.config import Config, Setting

#: Where the loaded configuration lives: ``ctx.meta`` is shared by a context and all its children.
_META_KEY = "dbwright.config"

#: The command options each setting of the file gives its default to: (command path, option flag).
OPTION_DEFAULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "review.fail_on": (("review", "--fail-on"),),
    "review.server_memory": (
        ("review", "--server-memory"),
        ("snapshot", "--server-memory"),
        ("fix", "--server-memory"),
    ),
    "thresholds.DW203.min_observed_days": (
        ("review", "--min-observed"),
        ("fix", "--min-observed"),
        ("advise indexes", "--min-observed"),
    ),
    "audit.fail_on": (("audit", "--fail-on"),),
    "lint.server_version": (("lint", "--server-version"),),
    "lint.fail_on": (("lint", "--fail-on"),),
}
#: The name of the positional argument the configured ``target`` fills, in every command that has one.
TARGET_ARGUMENT = "database"
TARGET_OPTION = "--db"

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        show_default=False,
        help="The configuration file (dbwright.toml, or a pyproject.toml with \\[tool.dbwright]). "
        "Default: DBWRIGHT_CONFIG, else the first found from the current folder upward.",
    ),
]


def apply_config(ctx: typer.Context, path: Path | None) -> None:
    """Load the configuration and make its settings the defaults of every command's options."""
    if ctx.resilient_parsing:  # shell completion: never fail on a bad file while completing
        return
    config = api.load_config(path)
    ctx.meta[_META_KEY] = config
    if config.file is None:
        return  # no file: every default is dbwright's own
    defaults = default_map(ctx.command, config)
    if defaults:
        ctx.default_map = _merged(dict(ctx.default_map or {}), defaults)


def active_config() -> Config | None:
    """The configuration the running command loaded (None outside a command, e.g. in a library call)."""
    context = _current_context()
    return context.meta.get(_META_KEY) if context is not None else None


def _current_context() -> Any:
    from typer._click.globals import get_current_context  # typer vendors click

    return get_current_context(silent=True)


# --- the default map -------------------------------------------------------------------------------------


def default_map(root: Any, config: Config) -> dict[str, Any]:
    """Click's ``default_map`` for the settings the file gives: ``{"review": {"fail_on": "high"}}``.

    The file's ``target`` fills every command's DATABASE argument, unless the environment names a
    server (``DATABASE_URL``, ``PG*``): the environment comes before the file.
    """
    defaults: dict[str, Any] = {}
    settings = api.config_settings(config)
    given = {s.key: s for s in settings if s.source == "file"}
    if "target" in given:
        for path, command in commands(root):
            name = target_parameter(command)
            if name is not None:
                _at(defaults, path)[name] = config.target
    for key, uses in OPTION_DEFAULTS.items():
        setting = given.get(key)
        if setting is None or setting.value is None:
            continue
        if key.endswith("fail_on") and setting.value == "none" and key != "lint.fail_on":
            continue  # review and audit never fail on findings unless asked: nothing to set
        for command_path, flag in uses:
            name = option_name(root, command_path, flag)
            if name is not None:
                _at(defaults, tuple(command_path.split()))[name] = setting.value
    return defaults


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command under ``group``, with its path of names (``("advise", "indexes")``)."""
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "commands", None):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def option_name(root: Any, command_path: str, flag: str) -> str | None:
    """The parameter name behind ``flag`` on the command at ``command_path`` (None when it has none)."""
    command = dict(commands(root)).get(tuple(command_path.split()))
    if command is None:
        return None
    return next((p.name for p in command.params if flag in getattr(p, "opts", ())), None)


def target_parameter(command: Any) -> str | None:
    """The parameter a command takes its database from: the DATABASE argument, else (``fix``, whose
    arguments are ``[DATABASE] CODE…``) the ``--db`` option; None for commands without a database."""
    for param in command.params:
        if param.param_type_name == "argument" and param.name == TARGET_ARGUMENT and param.nargs == 1:
            return param.name
    return next((p.name for p in command.params if TARGET_OPTION in getattr(p, "opts", ())), None)


def _at(tree: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for part in path:
        tree = tree.setdefault(part, {})
    return tree


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merged(dict(base[key]), value)
        else:
            base[key] = value
    return base


# --- dbwright config show --------------------------------------------------------------------------------

config_app = typer.Typer(
    help="The project's configuration file (dbwright.toml or \\[tool.dbwright]): what dbwright uses.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("show")
def show(ctx: typer.Context, format: TextOrJsonOpt = "text") -> None:
    """Print the effective settings and where each came from: the file and key, the environment, or
    dbwright's default. A command-line flag still wins over all of them."""
    config = ctx.meta.get(_META_KEY) or api.load_config()
    settings = api.config_settings(config)
    root = ctx.find_root().command
    if format == "json":
        emit_json(
            {
                "precedence": ["flag", "env", "file", "default"],
                "config_file": str(config.file.path) if config.file else None,
                "settings": [s.to_dict() | {"options": applies_to(root, s.key)} for s in settings],
            }
        )
        return
    typer.echo(render_settings(settings, root))


def applies_to(root: Any, key: str) -> list[str]:
    """The command options a setting gives its default to: ``["review --fail-on"]``."""
    if key == "target":
        return [" ".join(path) for path, command in commands(root) if target_parameter(command)]
    return [f"{path} {flag}" for path, flag in OPTION_DEFAULTS.get(key, ()) if option_name(root, path, flag)]


def render_settings(settings: Sequence[Setting], root: Any) -> str:
    """The settings as TOML-like lines, each with a comment saying where its value came from."""
    lines = ["# effective settings; precedence: flag > env > file > default"]
    rows = [(f"{s.key} = {_value(s.value)}", _comment(s, root)) for s in settings]
    width = min(max(len(left) for left, _ in rows), 60)
    for (left, comment), setting in zip(rows, settings, strict=True):
        lines.append(f"{left.ljust(width)}  # {comment}")
        if setting.key == "ignore":
            lines += [f"#   {i['check']} {i['object']}: {i['reason']}" for i in setting.value]
    return "\n".join(lines)


def _value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"[{len(value)} entr{'y' if len(value) == 1 else 'ies'}]"
    return json.dumps(value)


def _comment(setting: Setting, root: Any) -> str:
    parts = [setting.origin]
    if setting.note:
        parts.append(setting.note)
    options = applies_to(root, setting.key)
    if options and setting.key != "target":
        parts.append("for " + ", ".join(options))
    return "; ".join(parts)
