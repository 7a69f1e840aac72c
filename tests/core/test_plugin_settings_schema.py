"""A plugin declares its [plugins.<name>] table as attrs classes and checks it with dunning.schema.

What docs/plugins.md shows: the plugin's ``check_settings`` calls ``structure``; the core names the file and the
table, the schema the key's path inside it, the key meant when one is close, and what the key takes.
"""

from __future__ import annotations

from typing import Any

import attrs

from dunning import hookimpl
from dunning.schema import must, structure
from tests.conftest import Project, dump



@attrs.frozen(kw_only=True)
class Retry:
    attempts: int = attrs.field(default=3, validator=must("a whole number from 1 to 10", lambda n: 1 <= n <= 10))


@attrs.frozen(kw_only=True)
class CrmSettings:
    url: str = attrs.field(metadata={"required": "{key} is required: the CRM's address"})
    timeout: float = 10.0
    retry: Retry = Retry()


class CrmMirror:
    plugin_name = "crm"

    def __init__(self) -> None:
        self.settings: list[CrmSettings] = []

    @hookimpl
    def check_settings(self, settings: Any) -> None:
        self.settings.append(structure(settings, CrmSettings))

    @hookimpl
    def record_event(self, event: Any) -> None:
        pass


def test_a_plugin_table_is_checked_through_its_schema(project: Project, register_plugin):
    crm = CrmMirror()
    register_plugin(crm)
    project.write_config(extra='[plugins.crm]\nurl = "https://crm.example.com"\n[plugins.crm.retry]\nattempts = 5\n')
    project("cases", "list")
    assert crm.settings[-1] == CrmSettings(url="https://crm.example.com", retry=Retry(attempts=5))
    before = dump(project)
    for extra, message in [
        ('url = "https://crm.example.com"\ntimout = 5\n',
         "plugins.crm: unknown key 'timout'; did you mean 'timeout'? (allowed: retry, timeout, url)"),
        ('url = "https://crm.example.com"\n[plugins.crm.retry]\nattempt = 5\n',
         "plugins.crm: unknown key 'retry.attempt'; did you mean 'attempts'? (allowed: attempts)"),
        ('url = "https://crm.example.com"\n[plugins.crm.retry]\nattempts = "5"\n',
         "plugins.crm: 'retry.attempts' must be a whole number from 1 to 10, got '5'"),
        ('url = "https://crm.example.com"\n[plugins.crm.retry]\nattempts = 50\n',
         "plugins.crm: 'retry.attempts' must be a whole number from 1 to 10, got 50"),
        ('url = "https://crm.example.com"\ntimeout = "soon"\n', "plugins.crm: 'timeout' must be a number, got 'soon'"),
        ("timeout = 5\n", "plugins.crm: 'url' is required: the CRM's address"),
    ]:
        project.write_config(extra="[plugins.crm]\n" + extra)
        refused = project("cases", "list", expect=1)
        assert f"Error: {project.config}: {message}\n" == refused.output, extra
    assert dump(project) == before
