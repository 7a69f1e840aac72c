"""dunning.toml refused through its schema: each message is one line naming the file and the key's path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dunning.config import ConfigError, parse_config


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as refused:
        parse_config(tomllib.loads(text), path=Path("/srv/dunning.toml"), source="dunning.toml")
    message = str(refused.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("text", "message"), [
    ('[delivery]\nmax_attempts = "x"\n', "dunning.toml: 'delivery.max_attempts' must be a whole number, got 'x'"),
    ("[delivery]\nmax_attempts = true\n", "dunning.toml: 'delivery.max_attempts' must be a whole number, got True"),
    ("[delivery]\nclaim_timeout_seconds = -1\n",
     "dunning.toml: 'delivery.claim_timeout_seconds' must be positive, got -1"),
    ("delivery = 3\n", "dunning.toml: 'delivery' must be a table, got 3"),
    ('timezone = "Mars/Olympus"\n', "dunning.toml: 'timezone' must be a known time zone, got 'Mars/Olympus'"),
    ('[channels]\nenabled = "email"\n', "dunning.toml: 'channels.enabled' must be a list, got 'email'"),
    ('[channels]\nenabled = ["email", 7]\n', "dunning.toml: 'channels.enabled[1]' must be a string, got 7"),
    ('[channels]\nenabled = ["email", "email"]\n', "dunning.toml: 'channels.enabled' lists a channel twice"),
    ("[channels]\nemail = 3\n", "dunning.toml: 'channels.email' must be a table, got 3"),
    ("[plugins]\ncrm = 3\n", "dunning.toml: 'plugins.crm' must be a table, got 3"),
    ('[notify]\nsupervisor = "nobody"\n', "dunning.toml: 'notify.supervisor' must be an email address, such as "
                                          "\"Ann Lee <ann@example.com>\" or \"ann@example.com\", got 'nobody'"),
    ("[evidence]\nkey_file = 1\n", "dunning.toml: 'evidence.key_file' must be a string, got 1"),
])
def test_a_wrong_value_names_its_key_path(text: str, message: str):
    assert refusal(text) == message


def test_an_unknown_key_names_its_path_the_keys_allowed_and_the_one_meant():
    assert refusal("[delivery]\nmax_attempt = 3\n") == (
        "dunning.toml: unknown key 'delivery.max_attempt'; did you mean 'max_attempts'? "
        "(allowed here: claim_timeout_seconds, max_attempts, retry_after_minutes)")
    assert refusal('polcy = "p.toml"\n').startswith("dunning.toml: unknown key 'polcy'; did you mean 'policy'? ")
    # Nothing close: no guess.
    assert "did you mean" not in refusal("[store]\ncolour = 1\n")


def test_a_good_file_still_reads_into_the_config():
    config = parse_config(tomllib.loads("""
policy = "p.toml"
timezone = "Europe/Berlin"
[channels]
enabled = ["email"]
[channels.email]
host = "mail.example"
in_doubt = "hold"
[delivery]
retry_after_minutes = 5
[notify]
manager = "Ann Lee <ann@example.com>"
[plugins]
disabled = ["visit"]
[plugins.crm]
url = "https://crm.example"
[store]
synchronous = "normal"
"""), path=Path("/srv/dunning.toml"), source="dunning.toml")
    assert config.enabled_channels == ("email",)
    assert config.settings_for("email") == {"host": "mail.example"}
    assert config.in_doubt == {"email": "hold"}
    assert config.retry_after.total_seconds() == 300 and config.max_attempts == 5
    assert config.notify == {"manager": "Ann Lee <ann@example.com>"}
    assert config.disabled_plugins == ("visit",) and config.plugin_settings == {"crm": {"url": "https://crm.example"}}
    assert config.synchronous == "normal" and config.db == Path("/srv/dunning.db")
    assert config.evidence_key == Path("/srv/dunning-evidence.key") and not config.evidence_key_named
