"""A ``dunning.toml`` already checked, kept between commands: a start-up that finds the same file skips the check.

Checking the config (cattrs over every table, the compliance profiles, the
ledger settings) and loading the policies it names cost a reading command
such as ``cases show`` more than the command itself. What a full check
accepted is kept in a file of its own per config, owner-only, in the user's
cache folder (``$DUNNING_CACHE_DIR``, else ``$XDG_CACHE_HOME/dunning``, else
``~/.cache/dunning``), with what it was checked against:

- the config file's resolved path, size, modification time and SHA-256;
- the engine's checking code and presets (name, size and time of each file)
  and the Python version;
- for the policies: each policy the config names, by the same stamp as the
  config (a preset is code), and the channels the plugins provide.

Anything different, a cache file that is not ours or not owner-only, or one
that cannot be read, and the full check runs again, with its errors exactly
as before: only what passed is ever kept, so an edit that breaks the config
or a policy is caught on the next start. Pickle is safe here because the file
is trusted as much as the config itself: written by this user, readable and
writable by this user alone, and refused otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import pickle
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dunning.config import Config

CACHE_ENV = "DUNNING_CACHE_DIR"
# Bumped when what an entry holds changes shape.
FORMAT = 1
# The engine's folders whose files decide what a config or policy check accepts (the presets are policies).
_CHECKING_CODE = ("", "compliance", "ledger", "policy", "presets")

# The entry each config path was read from in this process: its policies are added to it once they pass.
_entries: dict[Path, dict[str, Any]] = {}


def cache_dir() -> Path:
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "dunning"


def file_stamp(path: Path) -> tuple[str, int, int, str] | None:
    """The file's resolved path, size, modification time (ns) and SHA-256; None when it is no readable file."""
    try:
        resolved = path.resolve()
        before = os.stat(resolved)
        if not stat.S_ISREG(before.st_mode):
            return None
        data = resolved.read_bytes()
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return None
    return str(resolved), before.st_size, before.st_mtime_ns, _sha256()(data).hexdigest()



@functools.cache
def _sha256() -> Any:
    """SHA-256 as the interpreter itself computes it (``_sha2``, ``_sha256`` before Python 3.12): hashlib loads
    OpenSSL first, some milliseconds of every start for the few short texts hashed here. The digest is the same;
    hashlib where the interpreter was built without its own."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    import hashlib

    return hashlib.sha256


@functools.cache
def code_stamp() -> str:
    """What the checking code is: a file of it edited, added or removed (an upgrade) gives another stamp."""
    digest = _sha256()(f"{FORMAT} {sys.version}".encode())
    package = Path(__file__).parent
    for folder in _CHECKING_CODE:
        try:
            entries = sorted(os.scandir(package / folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith((".py", ".toml")) and entry.is_file():
                info = entry.stat()
                digest.update(f"{folder}/{entry.name} {info.st_size} {info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _entry_file(config_path: Path) -> Path:
    return cache_dir() / (_sha256()(str(config_path).encode()).hexdigest()[:32] + ".pickle")


def _read_entry(where: Path) -> dict[str, Any] | None:
    """The entry in ``where`` if it is a regular file of this user's that no one else can read or write."""
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None
        with os.fdopen(fd, "rb", closefd=False) as stream:
            entry = pickle.load(stream)
    except Exception:  # a truncated or foreign file, a class since renamed: check the config again
        return None
    finally:
        os.close(fd)
    return entry if isinstance(entry, dict) else None


def _write_entry(where: Path, entry: dict[str, Any]) -> None:
    """Replace the entry in one step (a reader sees the old file or the new one); a cache that cannot be written
    is only a slower start."""
    part = where.with_name(f"{where.name}.{os.getpid()}.part")
    try:
        where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as stream:
            pickle.dump(entry, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, where)
    except Exception:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)


def checked_config(path: Path) -> Config | None:
    """The config at ``path`` as a full check last accepted it, if nothing it was checked against has changed."""
    stamp = file_stamp(path)
    if stamp is None:
        return None
    entry = _read_entry(_entry_file(Path(stamp[0])))
    if entry is None or entry.get("file") != stamp or entry.get("code") != code_stamp():
        return None
    config = entry.get("config")
    if type(config).__name__ != "Config":
        return None
    _entries[Path(stamp[0])] = entry
    return config  # type: ignore[no-any-return]


def remember_config(path: Path, config: Config, stamp: tuple[str, int, int, str] | None) -> None:
    """Keep ``config``, which a full check accepted from the file ``stamp`` describes, unless the file has changed
    since it was read."""
    if stamp is None or file_stamp(path) != stamp:
        return
    entry = {"format": FORMAT, "code": code_stamp(), "file": stamp, "config": config, "policies": []}
    _entries[Path(stamp[0])] = entry
    _write_entry(_entry_file(Path(stamp[0])), entry)


def policies_stamp(config: Config, names: Iterable[str], channels: Iterable[str]) -> tuple[Any, ...]:
    """What loading the policies ``names`` (the config's, its strategies') is checked against: each name with
    its file's stamp (None for a preset or a missing file, which the full load tells apart), and the channels
    the plugins provide (a step naming another is an error)."""
    return (tuple((name, _policy_file_stamp(config.base_dir, name)) for name in names), tuple(sorted(channels)))


def _policy_file_stamp(base_dir: Path, name: str) -> tuple[str, int, int, str] | str | None:
    try:
        path = Path(name)
        path = path if path.is_absolute() else base_dir / path
        if not path.exists():
            return None
    except (OSError, ValueError):
        return "unreadable"
    return file_stamp(path) or "unreadable"


def policies_checked(config: Config, stamp: tuple[Any, ...]) -> bool:
    """Whether the policies ``stamp`` describes were loaded without error for this config before."""
    entry = _entries.get(config.path) if config.path is not None else None
    return entry is not None and entry.get("config") == config and stamp in entry.get("policies", ())


def remember_policies(config: Config, stamp: tuple[Any, ...]) -> None:
    """Note that the policies ``stamp`` describes loaded without error (kept with the config's entry)."""
    entry = _entries.get(config.path) if config.path is not None else None
    if entry is None or entry.get("config") != config or stamp in entry["policies"]:
        return
    # Only the latest few: a config whose policy file is edited often does not grow its entry for ever.
    entry["policies"] = [*entry["policies"][-3:], stamp]
    _write_entry(_entry_file(Path(entry["file"][0])), entry)
