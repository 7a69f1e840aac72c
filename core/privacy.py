"""Files holding personal data are owner-only, whatever the umask of the shell that started us.

Debtors' names, addresses, numbers and debts end up in many files: the
database and its WAL, letters and print batches, agency placement files,
call exports, legal bundles, the checkpoints and the key. Rather than every
writer remembering a mode, the process sets an owner-only umask once, when
the engine starts (``dunning`` on the command line, or a ``Runtime`` opened
by a program), so every file is created 0600 and every folder 0700.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

OWNER_ONLY_UMASK = 0o077


def owner_only() -> None:
    """From now on, files this process creates are readable by their owner alone."""
    os.umask(OWNER_ONLY_UMASK)


def readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


SECRET_SETTINGS = ("password", "token", "secret", "api_key")


def holds_secret(data: Mapping[str, Any]) -> bool:
    """Whether a parsed config holds a password or token in clear (``*_env`` keys name variables, not secrets)."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            if holds_secret(value):
                return True
        elif any(key == name or key.endswith("_" + name) for name in SECRET_SETTINGS) and value:
            return True
    return False
