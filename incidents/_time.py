"""Time helpers shared by the domain modules: local (Asia/Shanghai) days, parsing of event data.

China has kept UTC+8 all year since 1991, so a fixed offset is exact and needs no tz database.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

#: Asia/Shanghai as a fixed offset (no daylight saving since 1991).
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def is_aware(t: datetime) -> bool:
    """Whether ``t`` carries a usable UTC offset."""
    return t.tzinfo is not None and t.tzinfo.utcoffset(t) is not None


def local_date(t: datetime) -> date:
    """Calendar day of an aware time in Asia/Shanghai."""
    return t.astimezone(LOCAL_TZ).date()


def local_midnight(d: date) -> datetime:
    """Start (00:00 Asia/Shanghai) of the local day ``d``, as an aware datetime."""
    return datetime.combine(d, time(0), tzinfo=LOCAL_TZ)


def parse_time(value: object) -> datetime:
    """An aware datetime from a datetime, a date or ISO date (local midnight), or an ISO time.

    Raises
    ------
    ValueError
        For naive times, unparsable strings and other types (message bilingual).
    """
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"时间格式无效 / invalid ISO time: {value!r}") from None
    if isinstance(value, datetime):
        if not is_aware(value):
            raise ValueError(f"时间缺少时区 / time has no UTC offset: {value.isoformat()}")
        return value
    if isinstance(value, date):
        return local_midnight(value)
    raise ValueError(f"不是时间 / not a time: {type(value).__name__}")
