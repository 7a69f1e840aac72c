"""Signed checkpoints of the evidence chain: its head (seq and hash) signed with an Ed25519 key.

The hash chain alone shows that an event was changed, but not that the log
was cut short, or rewritten with every later hash recomputed. A checkpoint
signed by a key kept outside the database pins the chain's head at a
moment: a log shorter than a checkpoint, or with another hash at a
checkpointed seq, fails ``dunning verify``. Checkpoints live in three
places (the database, a JSON-lines file beside it, the ``record_event``
mirrors), so removing them from one is not enough to hide a rewrite.

What it cannot protect against: someone holding both the database and the
private key can sign a rewritten chain. Keep the key where the database's
users cannot read it, and a copy of the checkpoints file elsewhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

# What is signed: this prefix, then the canonical JSON of seq, hash and signed_at; the prefix keeps a
# checkpoint signature from being mistaken for a signature over anything else.
SIGNED_PREFIX = b"dunning evidence checkpoint v1\n"
FIELDS = ("seq", "hash", "signed_at", "public_key", "signature")


class CheckpointError(ValueError):
    """A key or checkpoints file that cannot be used; the message names the file (and line)."""


@attrs.frozen
class Checkpoint:
    seq: int
    hash: str
    signed_at: str  # UTC, ISO 8601
    public_key: str  # the signer's raw Ed25519 public key, base64
    signature: str  # base64

    def signed_bytes(self) -> bytes:
        return signed_message(self.seq, self.hash, self.signed_at)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def to_line(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))


def signed_message(seq: int, head_hash: str, signed_at: str) -> bytes:
    body = json.dumps({"hash": head_hash, "seq": seq, "signed_at": signed_at}, sort_keys=True, separators=(",", ":"))
    return SIGNED_PREFIX + body.encode()


def from_dict(data: Any, where: str) -> Checkpoint:
    if not isinstance(data, dict) or set(data) != set(FIELDS):
        raise CheckpointError(f"{where}: not a checkpoint (expected the keys {', '.join(FIELDS)})")
    if not isinstance(data["seq"], int) or isinstance(data["seq"], bool) or data["seq"] < 0:
        raise CheckpointError(f"{where}: 'seq' must be a whole number")
    for key in FIELDS[1:]:
        if not isinstance(data[key], str) or not data[key]:
            raise CheckpointError(f"{where}: '{key}' must be a non-empty string")
    return Checkpoint(**data)


# --- keys ---------------------------------------------------------------------------------


def _crypto() -> Any:
    # Imported where used: most commands never sign or verify.
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519


def generate_key(path: Path, *, force: bool = False) -> str:
    """Write a new private key to ``path`` (PEM, owner-only) and return its public key."""
    from cryptography.hazmat.primitives import serialization

    if path.exists() and not force:
        raise CheckpointError(f"{path}: a key is already there (--force replaces it; checkpoints signed with the "
                              "old key then verify only against its public key)")
    key = _crypto().Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    # Created owner-only from the start: never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return public_key_text(key)


def load_key(path: Path) -> Any:
    """The Ed25519 private key in ``path``."""
    from cryptography.hazmat.primitives import serialization

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no evidence key (make one with `dunning evidence keygen`)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the evidence key: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CheckpointError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, _crypto().Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 key")
    return key


def public_key_text(private_key: Any) -> str:
    import base64  # with binascii: where a key or a signature is written or read, not in every store's start

    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(private_key: Any, seq: int, head_hash: str, signed_at: str) -> Checkpoint:
    import base64

    signature = private_key.sign(signed_message(seq, head_hash, signed_at))
    return Checkpoint(seq=seq, hash=head_hash, signed_at=signed_at, public_key=public_key_text(private_key),
                      signature=base64.b64encode(signature).decode())


def signature_problem(checkpoint: Checkpoint, trusted_key: str | None) -> str | None:
    """Why ``checkpoint``'s signature cannot be trusted, or None.

    With ``trusted_key`` (the evidence key's public key) a checkpoint signed
    by any other key is refused: anyone can sign a forged head with a key
    of their own.
    """
    import base64

    from cryptography.exceptions import InvalidSignature

    if trusted_key is not None and checkpoint.public_key != trusted_key:
        return "it is not signed by the evidence key"
    try:
        public = _crypto().Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint.public_key, validate=True))
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return "its signature does not match what it signs"
    return None


# --- the file beside the database ------------------------------------------------------------


def file_beside(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".checkpoints")


def append_to_file(path: Path, checkpoint: Checkpoint) -> None:
    """Add one line to the checkpoints file (owner-only; created if missing), synced to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (checkpoint.to_line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a JSON-lines file; a bad line is an error naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoints file") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not UTF-8 text (a checkpoints file is JSON lines)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror}") from None
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            raise CheckpointError(f"{path}: line {number}: not JSON") from None
        found.append(from_dict(data, f"{path}: line {number}"))
    return found


# --- checking a chain against checkpoints ------------------------------------------------------


@attrs.frozen
class Disagreement:
    checkpoint: Checkpoint
    source: str
    problem: str

    def __str__(self) -> str:
        cp = self.checkpoint
        return f"checkpoint of event {cp.seq} signed {cp.signed_at} ({self.source}): {self.problem}"


def disagreements(found: Iterable[tuple[str, Checkpoint]], last_seq: int, hash_at: Callable[[int], str | None],
                  trusted_key: str | None) -> list[Disagreement]:
    """What each checkpoint (with where it came from) says is wrong with the chain, seq order.

    ``hash_at(seq)`` gives the stored hash of one event (None if missing).
    """
    problems = []
    # The same checkpoint is usually found in two or three places: its signature is checked once.
    signature_problems: dict[Checkpoint, str | None] = {}
    for source, cp in sorted(found, key=lambda pair: pair[1].seq):
        if cp not in signature_problems:
            signature_problems[cp] = signature_problem(cp, trusted_key)
        problem = signature_problems[cp]
        if problem is None:
            if cp.seq > last_seq:
                problem = f"the log ends at event {last_seq}: events after it were removed"
            elif cp.seq > 0 and hash_at(cp.seq) != cp.hash:
                problem = f"event {cp.seq} has another hash than the one signed: the log was rewritten"
        if problem is not None:
            problems.append(Disagreement(cp, source, problem))
    return problems


def starting_point(found: Iterable[Checkpoint]) -> Checkpoint | None:
    """The checkpoint an incremental ``verify`` starts from: the one that signs the furthest event (of those
    that every check agreed with), or None when there is none past the empty log."""
    furthest = max(found, key=lambda cp: (cp.seq, cp.signed_at), default=None)
    return furthest if furthest is not None and furthest.seq > 0 else None
