"""The channel names the core knows even when no installed plugin provides them.

A module of its own so that loading the plugins (every command does) needs
not import ``dunning.channels``, the channel API, with its attrs classes.
"""

from __future__ import annotations

# A policy may name these and run with them disabled (the step is skipped
# with an event); any other name must come from an installed plugin.
STANDARD_CHANNELS: tuple[str, ...] = ("email", "letter", "phone", "sms", "visit", "agency", "legal")
