"""``dunning plugins new NAME``: write a plugin package that passes its own tests as written.

The package is made from the Jinja2 templates in ``dunning/plugin_template/``:
a file ending in ``.jinja`` is rendered (and loses the suffix), any other is
copied as it is (the channel's own message templates are Jinja2 for dunning,
not for this command); ``MODULE`` in a path becomes the module's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import click

if TYPE_CHECKING:
    from importlib.abc import Traversable

# `dunning plugins` imports this module for its `new` subcommand: importlib.metadata and importlib.resources
# (with email, zipfile and tempfile behind them) wait until a package is written.

TEMPLATE_FOLDER = "plugin_template"
# Lowercase words joined by single hyphens or underscores: a distribution name, and an identifier once
# the hyphens become underscores.
_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


@attrs.frozen
class PluginNames:
    """What one plugin name becomes in the package."""

    name: str  # the plugin's and the channel's name: "whatsapp"
    distribution: str  # "dunning-whatsapp"
    module: str  # "dunning_whatsapp"
    class_name: str  # "WhatsappChannel"


def names_for(name: str) -> PluginNames:
    """The names of the package for plugin ``name``; ValueError saying what a good name looks like."""
    name = re.sub(r"^dunning[-_]", "", name)
    if not _NAME.fullmatch(name):
        raise ValueError(f"'{name}' is not a plugin name: use lowercase letters and digits, words joined by "
                         f"single hyphens, starting with a letter (whatsapp, crm-mirror)")
    words = re.split(r"[-_]", name)
    return PluginNames(name=name, distribution=f"dunning-{'-'.join(words)}", module=f"dunning_{'_'.join(words)}",
                       class_name="".join(w.capitalize() for w in words) + "Channel")


def package_files(names: PluginNames) -> dict[str, bytes]:
    """Each file of the package, by its path inside the package folder."""
    import importlib.metadata
    from importlib import resources

    import jinja2  # only this command needs it; every other command starts without it

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    values = attrs.asdict(names) | {"dunning_version": importlib.metadata.version("dunning")}
    files: dict[str, bytes] = {}
    for relative, source in _template_files(resources.files("dunning") / TEMPLATE_FOLDER, ""):
        target = relative.replace("MODULE", names.module)
        if target.endswith(".jinja"):
            text = env.from_string(source.read_text(encoding="utf-8")).render(**values)
            files[target.removesuffix(".jinja")] = text.encode("utf-8")
        else:
            files[target] = source.read_bytes()
    return files


def _template_files(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found += _template_files(entry, f"{prefix}{entry.name}/")
        else:
            found.append((f"{prefix}{entry.name}", entry))
    return found


def write_package(names: PluginNames, folder: Path) -> list[Path]:
    """Write the package into ``folder``, which must not exist yet; the files written."""
    if folder.exists():
        raise FileExistsError(f"{folder} already exists; choose another --dir, or remove it first")
    written: list[Path] = []
    for relative, content in package_files(names).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


@click.command(name="new")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(path_type=Path),
              help="The folder to create (default: ./dunning-NAME). It must not exist yet.")
def new(name: str, folder: Path | None) -> None:
    """Write a new plugin package, NAME, to start a plugin from.

    The package has a pyproject.toml with the `dunning` entry point, a
    module with a channel called NAME and a `check_action` rule, its own
    message template, tests on the `dunning_` fixtures, and a README. Its
    tests pass as written: `pip install -e '.[test]' && pytest` in the new
    folder. NAME is lowercase words joined by hyphens (whatsapp, crm-mirror).
    """
    try:
        names = names_for(name)
        target = folder if folder is not None else Path(names.distribution)
        written = write_package(names, target)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {target}/ ({len(written)} files): the {names.distribution} package, with the "
               f"'{names.name}' channel and a rule")
    for path in written:
        click.echo(f"  {path.relative_to(target).as_posix()}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && pytest")
