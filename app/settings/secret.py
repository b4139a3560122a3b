"""``Secret``: a credential that never shows itself (its own module so every settings module can use it)."""

from __future__ import annotations


class Secret:
    """A string that refuses to show itself in ``repr``/``str``; call ``get_secret_value()`` to use it.

    Deliberately not a ``str`` subclass: an accidental f-string or ``%s`` must not leak the key either.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'**********'"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
