"""``dunning plugins``: the plugins with their versions, channels and hooks, and ``plugins new``."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import click

from dunning import scaffold
from dunning.cli_support import State, json_option
from dunning.output import print_json, print_table
from dunning.plugin_manager import load_plugins


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins with their version, channels (and each channel's medium) and the hooks they implement.

    `dunning plugins new NAME` writes a new plugin package to start from.
    """
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    state.defaults_will_do = True
    loaded = load_plugins(state.config, versions=True)
    info = loaded.info
    lag = _mirror_lag(state, loaded.calls.implementers("record_event"))
    media = loaded.media  # each channel's medium, which the contact rules bind by (None: declares none)
    if as_json:
        # ``problem`` only for a plugin left out, ``mirror_lag`` only for a mirror.
        print_json([attrs.asdict(i, filter=lambda field, value: field.name != "problem" or value is not None)
                    | {"media": {c: media.get(c) for c in i.channels}}
                    | ({"mirror_lag": lag[i.name]} if i.name in lag else {}) for i in info])
        return
    print_table([[i.name, i.version or "", i.source, "yes" if i.enabled else "no", ", ".join(i.channels),
                  ", ".join(media.get(c) or "none" for c in i.channels), ", ".join(i.hooks)] for i in info],
                ["name", "version", "source", "active", "channels", "media", "hooks"])
    for name, behind in lag.items():
        click.echo(f"mirror {name}: {behind} event{'s' if behind != 1 else ''} behind")


def _mirror_lag(state: State, mirrors: Sequence[str]) -> dict[str, int]:
    """How many events each ``record_event`` mirror has yet to take (none without a database)."""
    if not mirrors:
        return {}
    # Only with a mirror to ask about: the store is a tenth of this command.
    from dunning.store import Store
    from dunning.store.database import database_exists, opened_as

    database = state.database
    if not database_exists(database):
        return {}

    store = Store(opened_as(database))
    try:
        head, cursors = store.last_seq(), store.mirror_cursors()
    finally:
        store.close()
    return {name: head - cursors.get(name, 0) for name in mirrors}


plugins.add_command(scaffold.new)
