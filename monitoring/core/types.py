"""Column types shared by every feature."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from babel import Locale
from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator

from monitoring.core.i18n import current_locale


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store datetimes in UTC and always hand back timezone-aware values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TitledEnum(enum.Enum):
    """An enum whose members carry a translatable title (set in ``__titles__``)."""

    @property
    def title(self) -> str:
        cls = type(self)
        locale = current_locale()  # one object per language (i18n.select_locale): found by identity
        key = (cls, locale)
        titles = _TITLES.get(key)
        if titles is None:
            lazy = cls.__titles__()  # type: ignore[attr-defined]
            if locale is None:  # no request or app: nothing to cache under
                return str(lazy[self])
            titles = _TITLES[key] = {member: str(text) for member, text in lazy.items()}
        return titles[self]


# The translated titles per enum class and locale: a few dozen classes times the locales.
_TITLES: dict[tuple[type[TitledEnum], Locale | None], dict[TitledEnum, str]] = {}


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by value in a string column guarded by a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
    )


def enum_values(enum_cls: type[enum.Enum]) -> list[Any]:
    """Return the stored values of an enum."""
    return [m.value for m in enum_cls]
