"""``dunning portal``: the debtors' page, as the command line sees it (``portal link CASE``)."""

from __future__ import annotations

import click

from dunning.cli_support import State, fail, parse_case_id, pass_state


@click.group()
def portal() -> None:
    """The debtors' page: links to it (set [portal] base_url in dunning.toml)."""


@portal.command(name="link")
@click.argument("case_id")
@pass_state
def link(state: State, case_id: str) -> None:
    """Print the link to a case's page, signed and good for [portal] link_days.

    Anyone holding the link sees the case's page, so send it to the debtor
    only. A link that is changed, or used after it expired, opens nothing.
    """
    from dunning.portal import links

    rt = state.runtime()
    case = rt.store.case(parse_case_id(case_id))
    if rt.config.sections.portal.base_url is None:
        fail(f"{rt.config.path or 'dunning.toml'}: set [portal] base_url (where the page is served) to make links")
    try:
        url = links.link(rt.config, case.id, state.now())
    except links.PortalKeyError as exc:
        fail(str(exc))
    click.echo(url)
