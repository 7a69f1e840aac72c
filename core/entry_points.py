"""The installed plugins' entry points, read from the distributions' ``entry_points.txt`` files.

Every command looks them up, `dunning --help` included. ``importlib.metadata`` finds the same ones, but its
import (email, zipfile, csv and more, for reading packages' metadata) costs such a command about a fifth of
its time. On the usual layout (folders on ``sys.path`` holding ``*.dist-info`` or ``*.egg-info`` folders)
this module reads them as ``importlib.metadata`` does: the same folders in the same order, the first
distribution of a name winning. Anything else on ``sys.path`` (a zip file, an ``.egg``) or a finder that
knows distributions of its own, and it asks ``importlib.metadata``. A distribution's version is read through
``importlib.metadata`` when asked for (``dunning plugins`` shows it).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class EntryPoint:
    """One ``name = module:attribute`` line of a distribution's ``[group]``."""

    def __init__(self, name: str, value: str, dist_path: Path | None, found: Any = None):
        self.name = name
        self.value = value
        self.dist_path = dist_path
        self._found = found  # importlib.metadata's own entry point, when it was the one asked

    def load(self) -> Any:
        """The object the entry point names, its module imported now."""
        if self._found is not None:
            return self._found.load()
        # "module:attr.attr [extras]", as importlib.metadata.EntryPoint reads it.
        module_name, _, attributes = self.value.partition("[")[0].partition(":")
        found: Any = importlib.import_module(module_name.strip())
        for attribute in filter(None, attributes.strip().split(".")):
            found = getattr(found, attribute)
        return found

    def version(self) -> str | None:
        """The distribution's version (a metadata read, hence only for ``dunning plugins``)."""
        if self._found is not None:
            return self._found.dist.version if self._found.dist else None
        if self.dist_path is None:
            return None
        found = _version_header(self.dist_path)
        if found is not None:
            return found
        import importlib.metadata  # a layout the header reading does not know: as importlib.metadata reads it

        return importlib.metadata.Distribution.at(self.dist_path).version


def _version_header(dist_path: Path) -> str | None:
    """The ``Version`` header of the distribution's ``METADATA`` (else ``PKG-INFO``), as importlib.metadata reads
    it (the first, in the headers before the first blank line), without importing it and the email package."""
    for name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(dist_path, name), encoding="utf-8") as stream:
                text = stream.read()
        except OSError:
            continue
        for line in text.splitlines():
            if not line.strip():
                break
            key, colon, value = line.partition(":")
            if colon and not key[:1].isspace() and key.strip().lower() == "version":
                return value.strip()
        return None
    return None


def entry_points(group: str) -> list[EntryPoint]:
    """The entry points of ``group`` of every installed distribution, in ``importlib.metadata``'s order."""
    if not _plain_layout():
        import importlib.metadata

        return [EntryPoint(ep.name, ep.value, None, ep) for ep in importlib.metadata.entry_points(group=group)]
    found: list[EntryPoint] = []
    seen: set[str] = set()
    # Plain strings and os.path, not Path: this runs at every start over every installed distribution.
    for name, dist_path in _distributions():
        if name in seen:
            continue
        seen.add(name)
        try:
            with open(os.path.join(dist_path, "entry_points.txt"), encoding="utf-8") as stream:
                text = stream.read()
        except OSError:
            continue
        found += [EntryPoint(key, value, Path(dist_path)) for key, value in _section(text, group)]
    return found


def _plain_layout() -> bool:
    """Only folders on sys.path (or missing entries), and no finder but the path finder that knows distributions."""
    from importlib.machinery import PathFinder

    if any(hasattr(finder, "find_distributions") for finder in sys.meta_path if finder is not PathFinder):
        return False
    return all(os.path.isdir(entry or ".") or not os.path.exists(entry) for entry in sys.path) and \
        not any(os.path.basename(entry).lower().endswith(".egg") for entry in sys.path)


def _distributions() -> Iterator[tuple[str, str]]:
    # Per sys.path folder, as importlib.metadata's Lookup: its *.dist-info and *.egg-info folders in the
    # folder's listing order, grouped by normalized name; each with that name.
    for entry in sys.path:
        try:
            children = os.listdir(entry or ".")
        except OSError:
            continue
        by_name: dict[str, list[str]] = {}
        for child in children:
            low = child.lower()
            if low.endswith((".dist-info", ".egg-info")):
                by_name.setdefault(_normalize(low.rpartition(".")[0].partition("-")[0]), []).append(
                    os.path.join(entry, child))
        for name, paths in by_name.items():
            for path in paths:
                yield name, path


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _section(text: str, group: str) -> Iterator[tuple[str, str]]:
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        if section == group:
            key, _, value = line.partition("=")
            yield key.strip(), value.strip()
