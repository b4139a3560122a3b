"""What each setting is called where, derived from ``Settings``' own annotations, and the hints built from it.

Every message about a setting says where to set it (file key, environment variable, flag) and gives an example,
so a user fixes it in one go. None of that is written out per setting: the file key is the field name, the
variable is ``GATEWAY_<NAME>``, the flag, example and unit come from ``setting(...)`` in ``model.py``, and the
"expected ..." text is worded from the type and its bounds. ``api-version`` is the one setting that is not a
field (it is a key of ``default_query``), so it is described here by hand.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Final, Literal

import msgspec

from app.settings.model import DEFAULT_API_VERSION_EXAMPLE, ENVVAR_PREFIX, Secret, Settings, SettingsError

__all__ = ["API_VERSION", "FIELDS", "FieldDoc", "invalid", "missing", "where"]

API_VERSION: Final = "api-version"


class FieldDoc(msgspec.Struct, frozen=True):
    """How to tell a user to fix one setting."""

    name: str
    file_key: str
    env: str
    example: str
    expected: str
    flag: str | None = None
    secret: bool = False
    """A credential: its value is never echoed, not even a wrong one."""
    raw_env: bool = False
    """Take the environment's text as written: Dynaconf parses every value as TOML, which silently turns
    GATEWAY_OPENAI_MODEL=2024-01-01 into a date and a numeric key into an int."""
    annotation: Any = None
    """The field's ``Annotated`` type, for validating this one value on its own."""


def _members(tp: Any) -> list[Any]:
    """The non-None members of a union (or the type itself)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _expected(tp: Any, meta: msgspec.Meta, unit: str | None) -> str:
    base = _members(tp)[0]
    if typing.get_origin(base) is Literal:
        return _or([f'"{v}"' for v in typing.get_args(base)])
    if base is bool:
        return "true or false"
    if base in (int, float):
        noun = ("a whole number" if base is int else "a number") + (f" of {unit}" if unit else "")
        if base is int and not unit:
            noun = "an integer"
        if meta.ge is not None and meta.le is not None:
            return f"{noun} from {meta.ge} to {meta.le}"
        for op, bound in ((">=", meta.ge), (">", meta.gt), ("<=", meta.le), ("<", meta.lt)):
            if bound is not None:
                return f"{noun} {op} {bound}"
        return noun
    return "a string"


def _is_text(tp: Any) -> bool:
    return all(m in (str, Secret) or typing.get_origin(m) is Literal for m in _members(tp))


def _describe() -> dict[str, FieldDoc]:
    hints = typing.get_type_hints(Settings, include_extras=True)
    docs: dict[str, FieldDoc] = {}
    for name in Settings.__struct_fields__:
        annotation = hints[name]
        tp, meta = typing.get_args(annotation)
        extra = meta.extra or {}
        docs[name] = FieldDoc(
            name=name,
            file_key=name,
            env=f"{ENVVAR_PREFIX}_{name.upper()}",
            example=(meta.examples or [""])[0],
            expected=extra.get("hint") or _expected(tp, meta, extra.get("unit")),
            flag=extra.get("flag"),
            secret=Secret in _members(tp) or name == "gateway_api_keys",
            raw_env=_is_text(tp),
            annotation=annotation,
        )
    docs["default_query"] = msgspec.structs.replace(docs["default_query"], file_key="[default_query]")
    docs[API_VERSION] = FieldDoc(
        name=API_VERSION,
        file_key='default_query."api-version"',
        env=f"{ENVVAR_PREFIX}_API_VERSION",
        example=DEFAULT_API_VERSION_EXAMPLE,
        expected="a string",
        flag="--api-version",
        raw_env=True,
    )
    return docs


FIELDS: Final[dict[str, FieldDoc]] = _describe()


def where(name: str) -> str:
    f = FIELDS[name]
    text = f"set {f.file_key} in settings.toml or .secrets.toml, or the environment variable {f.env}"
    if f.flag:
        text += f", or pass {f.flag}"
    return f"{text} (for example {f.example})"


def missing(name: str) -> str:
    return f"{name} is not set: {where(name)}"


def invalid(name: str, value: Any, reason: str | None = None) -> str:
    f = FIELDS[name]
    # Never echo a credential, not even a wrong one: it may be a real key pasted into the wrong place.
    shown = "" if f.secret else f"got {value!r}, "
    return f"{name} is invalid ({shown}expected {reason or f.expected}): {where(name)}"


def invalid_error(name: str, value: Any, reason: str | None = None) -> SettingsError:
    return SettingsError(invalid(name, value, reason))
