"""Media: what kind of contact a channel makes, so the rules bind by kind and not by name. Pure.

Windows, caps, opt-outs and confirmations name a medium (``call``, ``text``,
``email``, ``letter``, ``visit``, ``other``) or a channel; an integrator's
``whatsapp`` channel that declares ``medium = "text"`` is held to the text
rules without a line of configuration.
"""

from __future__ import annotations

from collections.abc import Mapping

MEDIA: tuple[str, ...] = ("call", "text", "email", "letter", "visit", "other")

# The media of the channels the core knows by name; an installed channel's own
# ``medium`` attribute wins (see ``declared_media``).
STANDARD_MEDIA: Mapping[str, str] = {
    "phone": "call", "sms": "text", "email": "email", "letter": "letter", "visit": "visit",
    "agency": "other", "legal": "other",
}


def declared_medium(channel: object) -> str | None:
    """The medium a channel object declares, else its standard name's, else None (it declares none).

    A channel registered under a standard name (``sms``) without a ``medium``
    of its own is what the name says; any other needs to declare one.
    """
    medium = getattr(channel, "medium", None)
    if medium in MEDIA:
        return str(medium)
    return STANDARD_MEDIA.get(str(getattr(channel, "name", "")))


def medium_of(channel: str, media: Mapping[str, str | None]) -> str | None:
    """The medium of the channel called ``channel``: as declared, else as the core knows it, else None."""
    if channel in media:
        return media[channel]
    return STANDARD_MEDIA.get(channel)


def applies_to(key: str, channel: str, medium: str | None) -> bool:
    """Whether a rule written for ``key`` (a channel or a medium) binds ``channel`` of ``medium``."""
    return key == channel or (medium is not None and key == medium)
