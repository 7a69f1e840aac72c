"""Which config file a command reads: apart from the config itself, as `dunning --help` needs only this."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_NAME = "dunning.toml"


def resolve_config_path(explicit: str | None) -> Path:
    """``--config``, else ``$DUNNING_CONFIG``, else ``./dunning.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("DUNNING_CONFIG")
    if env:
        return Path(env)
    return Path(DEFAULT_CONFIG_NAME)
