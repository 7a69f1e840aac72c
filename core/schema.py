"""TOML tables declared as attrs classes, structured by cattrs, refused in one line that names the key.

A settings table is an attrs class: each field's type says what TOML value
it takes, ``must(...)`` adds the range or choice a type cannot say, and a
class-wide ``__attrs_post_init__`` raises ``Invalid`` for rules between
keys. ``structure(data, Class)`` builds the object or raises ``SchemaError``
for the first thing wrong, with the key's path (``delivery.max_attempts``,
``caps[0].per``) and a message such as ``must be a whole number, got 'x'``.

cattrs is imported when a file is checked, not when this module is: every
command imports the classes, only commands that load a file pay for cattrs.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

T = TypeVar("T")
Path = tuple[str | int, ...]

# How close a misspelt key must be to a real one for "did you mean" (as the importer's columns).
MISSPELLING_CUTOFF = 0.75


class Invalid(ValueError):
    """A value a type cannot refuse but a rule does. ``text`` reads with ``{key}`` where the key's name goes.

    ``key`` is the field (or a path below it) relative to the table being
    checked; empty for a rule about the table as a whole.
    """

    def __init__(self, text: str, key: str | Path = (), *, literal: bool = False) -> None:
        super().__init__(text)
        # A literal text has no ``{key}`` in it, whatever it quotes (another check's message, a value).
        self.text = text if not literal else text.replace("{key}", _LITERAL_KEY)
        self.key: Path = (key,) if isinstance(key, str) else key


# Stands for a "{key}" that is part of a message (a pay link's {key} field), not the place of the key's name.
_LITERAL_KEY = "\x00key\x00"


class SchemaError(ValueError):
    """The first thing wrong with a table: where (``path``) and what (``text``, with ``{key}`` for the path)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        super().__init__(self.render())

    def render(self, path: Sequence[str | int] | None = None) -> str:
        """The message with ``path`` (default: the whole path) where the key goes, or in front when it has no place.

        A caller that says where it is in its own words (``step 's'``) passes the rest of the path.
        """
        path = self.path if path is None else path
        if "{key}" in self.text:
            # The first "{key}" only: it comes before any value the message quotes.
            text = self.text.replace("{key}", f"'{dotted(path)}'" if path else "the table", 1)
        else:
            text = f"{dotted(path)}: {self.text}" if path else self.text
        return text.replace(_LITERAL_KEY, "{key}")


def dotted(path: Sequence[str | int]) -> str:
    """``("caps", 0, "per")`` as ``caps[0].per``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@attrs.frozen
class Must:
    """An attrs validator: ``check(value)`` must hold, else ``{key} must be <expects>, got <value>``.

    ``expects`` is also what a value of the wrong type is told, so one
    phrase describes the key whatever is wrong with it.
    """

    expects: str
    check: Callable[[Any], bool] | None = None
    # What a value of the right type that fails ``check`` is told, when that says more (``{value}``: the value).
    fails: str | None = None

    def __call__(self, _instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        self.test(attribute.name, value)

    def test(self, key: str, value: Any) -> None:
        """Raise ``Invalid`` for ``key`` when ``value`` fails the check (None: not given, nothing to check)."""
        if self.check is not None and value is not None and not self.check(value):
            text = self.fails or f"must be {self.expects}, got {{value}}"
            raise Invalid("{key} " + text.replace("{value}", shown(value)), key)


def must(expects: str, check: Callable[[Any], bool] | None = None, fails: str | None = None) -> Any:
    """The validator for a field: what it ``expects`` (in words), the ``check`` beyond its type, and
    what a value failing that check is told (default: ``must be <expects>, got <value>``)."""
    return Must(expects, check, fails)


def one_of(choices: Sequence[str], *, quoted: bool = False) -> Any:
    """A string among ``choices``: ``must be one of a, b, c``."""
    listed = ", ".join(repr(c) if quoted else c for c in choices)
    return Must(f"one of {listed}", lambda value: value in choices)


def shown(value: Any) -> str:
    """A value as the administrator wrote it, more or less: tuples from lists show as lists."""
    if isinstance(value, tuple):
        return repr(list(value))
    return repr(value)


class _WrongType(TypeError):
    def __init__(self, value: Any, kind: Any) -> None:
        super().__init__(f"{value!r} is not {kind}")
        self.value = value
        self.kind = kind


def _kind_words(kind: Any) -> str:
    origin = typing.get_origin(kind) or kind
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_kind_words(arg) for arg in typing.get_args(kind) if arg is not type(None))
    if attrs.has(origin) or origin in (dict, Mapping):
        return "a table"
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false", list: "a list",
            tuple: "a list"}.get(origin, getattr(origin, "__name__", str(origin)))


def structure(data: Any, cls: type[T], *, unknown: str = "unknown key {key}{hint} (allowed: {allowed})") -> T:
    """``data`` (parsed TOML) as ``cls``; raise ``SchemaError`` for the first key that is wrong.

    ``unknown`` words an unknown key: ``{key}``, ``{allowed}`` and ``{hint}``
    (``; did you mean 'x'?`` when one is close) are filled in.
    """
    import cattrs  # a file is being checked: only now is cattrs worth its import time

    try:
        return _converter().structure(data, cls)
    except (cattrs.BaseValidationError, _WrongType, Invalid) as exc:
        path, text = _first(exc, (), cls, data, unknown)
        raise SchemaError(path, text) from None


def _first(exc: BaseException, path: Path, kind: Any, data: Any, unknown: str) -> tuple[Path, str]:
    """The path and message of the first error in cattrs' tree of them (field order, then extra keys)."""
    from cattrs.errors import (AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError,
                               IterableValidationError, IterableValidationNote)

    if isinstance(exc, ClassValidationError | IterableValidationError):
        # An unknown key first: it is often the misspelling of the key something else then misses.
        for raised in exc.exceptions:
            if isinstance(raised, ForbiddenExtraKeysError):
                return _unknown_key(raised, path, unknown, data)
        noted = [(e, n) for e in exc.exceptions for n in getattr(e, "__notes__", ())
                 if isinstance(n, AttributeValidationNote | IterableValidationNote)]
        # Keys in the order the administrator wrote them, where we still know it.
        order = list(data) if isinstance(data, Mapping) else []
        first = _in_written_order(noted, order, exc.cl if isinstance(exc, ClassValidationError) else None)
        if first is not None:
            inner, note = first
            if isinstance(note, AttributeValidationNote):
                field = _field(exc.cl, note.name) if isinstance(exc, ClassValidationError) else None
                if field is not None and field.metadata.get("rest"):
                    # The table's other keys, gathered into this field: they sit in the table itself.
                    return _first_leaf(inner, path, note.type, data, unknown, None)
                name = _key_name(exc.cl, note.name) if isinstance(exc, ClassValidationError) else note.name
                child = data.get(name) if isinstance(data, Mapping) else None
                return _first_leaf(inner, (*path, name), note.type, child, unknown, field)
            child = data[note.index] if isinstance(data, Sequence | Mapping) and _has(data, note.index) else None
            return _first_leaf(inner, (*path, note.index), note.type, child, unknown, None)
        cls = exc.cl if isinstance(exc, ClassValidationError) else None
        return _first_leaf(exc.exceptions[0], path, kind, data, unknown, None, cls)
    return _first_leaf(exc, path, kind, data, unknown, None)


def _in_written_order(noted: Sequence[tuple[BaseException, Any]], order: list[Any], cls: Any
                      ) -> tuple[BaseException, Any] | None:
    if not noted:
        return None

    def rank(pair: tuple[BaseException, Any]) -> int:
        note = pair[1]
        key = _key_name(cls, note.name) if hasattr(note, "name") else getattr(note, "index", None)
        return order.index(key) if key in order else len(order)

    return min(noted, key=rank)


def _has(data: Any, index: Any) -> bool:
    try:
        data[index]
    except (LookupError, TypeError):
        return False
    return True


def _first_leaf(exc: BaseException, path: Path, kind: Any, data: Any, unknown: str,
                field: attrs.Attribute[Any] | None, cls: Any = None) -> tuple[Path, str]:
    from cattrs.errors import BaseValidationError, ForbiddenExtraKeysError

    if isinstance(exc, BaseValidationError):
        return _first(exc, path, kind, data, unknown)
    if isinstance(exc, ForbiddenExtraKeysError):
        return _unknown_key(exc, path, unknown, data)
    if isinstance(exc, Invalid):
        # Raised by a validator or a rule between keys, while the class was being made.
        if cls is not None and exc.key:
            exc_path = (*path, _key_name(cls, str(exc.key[0])), *exc.key[1:])
        else:
            exc_path = (*path, *exc.key)
        return exc_path, exc.text
    expects = _expects(field)
    if isinstance(exc, _WrongType):
        return path, f"{{key}} must be {expects or _kind_words(exc.kind)}, got {shown(exc.value)}"
    if isinstance(exc, KeyError):
        required = field.metadata.get("required") if field is not None else None
        return path, required or "{key} is required"
    return path, f"{{key}} is not usable: {exc}"


def _expects(field: attrs.Attribute[Any] | None) -> str | None:
    if field is None:
        return None
    checks = [field.validator]
    while checks:
        check = checks.pop()
        if isinstance(check, Must):
            return check.expects
        checks.extend(getattr(check, "_validators", ()))
    expects = field.metadata.get("expects")
    return str(expects) if expects else None


def _field(cls: Any, name: str) -> attrs.Attribute[Any] | None:
    return next((f for f in attrs.fields(cls) if f.name == name), None) if attrs.has(cls) else None


def _key_name(cls: Any, name: str) -> str:
    """The TOML key a field is read from (its ``key`` metadata, else its name)."""
    field = _field(cls, name)
    return str(field.metadata.get("key", name)) if field is not None else name


def _unknown_key(exc: Any, path: Path, unknown: str, data: Any) -> tuple[Path, str]:
    import difflib

    written = list(data) if isinstance(data, Mapping) else []
    # The first unknown key as written (the file's order), else by name.
    extra = min(exc.extra_fields, key=lambda k: (written.index(k) if k in written else len(written), k))
    allowed = sorted(_key_name(exc.cl, f.name) for f in attrs.fields(exc.cl) if f.init and not f.metadata.get("rest"))
    close = difflib.get_close_matches(extra, allowed, n=1, cutoff=MISSPELLING_CUTOFF)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (*path, extra), unknown.replace("{allowed}", ", ".join(allowed)).replace("{hint}", hint)


@functools.cache
def _converter() -> Any:
    import cattrs
    from cattrs.errors import IterableValidationError, IterableValidationNote
    from cattrs.gen import make_dict_structure_fn, override

    converter = cattrs.Converter(forbid_extra_keys=True)

    def scalar(kind: type) -> Callable[[Any, Any], Any]:
        def hook(value: Any, _: Any) -> Any:
            # TOML has no null, and bool is an int to Python: `port = true` is a mistake, not 1.
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise _WrongType(value, kind)
            return value
        return hook

    converter.register_structure_hook(str, scalar(str))
    converter.register_structure_hook(int, scalar(int))
    converter.register_structure_hook(bool, scalar(bool))

    def number(value: Any, _: Any) -> float:
        # A whole number is a number too (TOML writes 30 for 30.0).
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _WrongType(value, float)
        return float(value)

    converter.register_structure_hook(float, number)
    converter.register_structure_hook(typing.Any, lambda v, _: v)

    def each(pairs: Iterable[tuple[Any, Any]], inner: Any, kind: Any) -> dict[Any, Any]:
        # Every item structured, every failure kept with its index or key, as cattrs does for its own.
        done, errors = {}, []
        for where, item in pairs:
            try:
                done[where] = converter.structure(item, inner)
            except Exception as exc:
                exc.__notes__ = [*getattr(exc, "__notes__", []), IterableValidationNote(f"@ {where}", where, inner)]
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {kind!r}", errors, kind)
        return done

    def items(value: Any, kind: Any) -> Any:
        # Only a TOML array is a list: cattrs would take a string for a list of its characters.
        if not isinstance(value, list):
            raise _WrongType(value, kind)
        args = typing.get_args(kind)
        done = list(each(enumerate(value), args[0] if args else Any, kind).values())
        return tuple(done) if (typing.get_origin(kind) or kind) is tuple else done

    def table(value: Any, kind: Any) -> Any:
        if not isinstance(value, dict):
            raise _WrongType(value, kind)
        args = typing.get_args(kind)
        return each(value.items(), args[1] if len(args) == 2 else Any, kind)

    def is_sequence(kind: Any) -> bool:
        return (typing.get_origin(kind) or kind) in (list, tuple, Sequence)

    def is_mapping(kind: Any) -> bool:
        return (typing.get_origin(kind) or kind) in (dict, Mapping)

    def fits(value: Any, kind: Any) -> bool:
        origin = typing.get_origin(kind) or kind
        if attrs.has(origin) or origin in (dict, Mapping):
            return isinstance(value, dict)
        if origin in (list, tuple, Sequence):
            return isinstance(value, list)
        if origin is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        return isinstance(value, origin) and (origin is bool or not isinstance(value, bool))

    def either(value: Any, kind: Any) -> Any:
        # TOML values say what they are: take the member of the union this value's kind fits.
        for member in typing.get_args(kind):
            if member is not type(None) and fits(value, member):
                return converter.structure(value, member)
        raise _WrongType(value, kind)

    def is_union(kind: Any) -> bool:
        return typing.get_origin(kind) in (typing.Union, types.UnionType)

    converter.register_structure_hook_func(is_union, either)
    converter.register_structure_hook_func(is_sequence, items)
    converter.register_structure_hook_func(is_mapping, table)

    def attrs_hook(cls: Any) -> Callable[[Any, Any], Any]:
        renamed: dict[str, Any] = {f.name: override(rename=f.metadata["key"])
                                   for f in attrs.fields(cls) if "key" in f.metadata}
        made = make_dict_structure_fn(cls, converter, **renamed)
        rest = next((f for f in attrs.fields(cls) if f.metadata.get("rest")), None)
        named = {_key_name(cls, f.name) for f in attrs.fields(cls) if f is not rest}

        def hook(value: Any, kind: Any) -> Any:
            if not isinstance(value, dict):
                raise _WrongType(value, kind)
            if rest is not None:
                # A table of fixed keys and named tables ([channels] enabled and [channels.email]):
                # the named ones are gathered into the field marked rest=True.
                value = {k: v for k, v in value.items() if k in named} | {
                    rest.name: {k: v for k, v in value.items() if k not in named}}
            return made(value, kind)
        return hook

    converter.register_structure_hook_factory(attrs.has, attrs_hook)
    return converter
