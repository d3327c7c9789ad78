"""Business hours as a calendar for SLA clocks: when the desk is open, and for how long.

One rule defines everything: an instant is open when its local wall time, in the team's
zone, falls within the hours for its local date and that date is not a holiday. So on
daylight-saving days hours skipped by spring-forward do not exist and hours repeated by
fall-back count twice: 09:00-18:00 is always 9 real hours, 00:00-24:00 is 23 or 25.

Without business hours the desk is open 24/7 and holidays are ignored: a team that has not
said when it works has not said when it rests either.

Pure computation: no I/O. Every method takes timezone-aware datetimes and answers in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from bot.config import days_of

if TYPE_CHECKING:
    from bot.config import Policy

_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Holidays can push the next opening arbitrarily far; after ten years closed we give up
# instead of walking on.
_MAX_CLOSED_DAYS = 3660
# Slack around a local day when looking for its UTC instants: wider than any gap a zone
# puts at midnight, narrow enough that the zone changes its offset at most once inside.
_MARGIN = timedelta(hours=6)

WallHours = tuple[timedelta, timedelta]  # opening and closing, measured from local midnight
Interval = tuple[datetime, datetime]  # [opening, closing) in UTC


class _Stretch(NamedTuple):
    """UTC time over which the zone keeps one offset, so wall time runs evenly."""

    start: datetime
    end: datetime
    offset: timedelta


class BusinessCalendar:
    """Weekly hours in one zone, minus holidays (whole local days).

    `weekly` maps a weekday (0 = Monday) to its (opening, closing) wall times; a missing
    day is closed; a closing of `time(0)` means 24:00, midnight at the end of the day.
    `None` means open 24/7, and then holidays do not apply.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        weekly: dict[int, list[tuple[time, time]]] | None,
        holidays: frozenset[date],
    ):
        self._zone = zone
        self._holidays = holidays
        self._weekly = None if weekly is None else _weekly_wall_hours(weekly)

    @classmethod
    def from_policy(cls, policy: Policy) -> BusinessCalendar:
        """The policy's calendar; ValueError names a malformed span or holiday."""
        hours = policy.business_hours
        return cls(
            ZoneInfo(policy.timezone),
            None if hours is None else _parse_weekly(hours),
            frozenset(_parse_holiday(text) for text in policy.holidays),
        )

    @property
    def always_open(self) -> bool:
        return self._weekly is None

    def is_open(self, moment: datetime) -> bool:
        local = _as_utc(moment).astimezone(self._zone).replace(tzinfo=None)
        since_midnight = local - datetime.combine(local.date(), time())
        hours = self._wall_hours(local.date())
        return any(opening <= since_midnight < closing for opening, closing in hours)

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the instant the desk next opens."""
        return self.add(moment, _ZERO)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant by which `duration` of business time has passed since `start`.

        Counting begins when the desk next opens, so a zero duration gives `next_open`.
        Raises ValueError when the desk never opens, or not within ten years.
        """
        start = _as_utc(start)
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if self.always_open:
            return start + duration
        remaining = duration
        intervals = self._intervals_from(start)
        while True:
            opening, closing = next(intervals)
            if remaining <= closing - opening:
                return opening + remaining
            remaining -= closing - opening

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time within [start, end); zero when `end` is not after `start`."""
        start, end = _as_utc(start), _as_utc(end)
        if end <= start:
            return _ZERO
        if self.always_open:
            return end - start
        total = _ZERO
        day, last_day = self._local_date(start), self._local_date(end)
        while day <= last_day:
            for opening, closing in self._day_intervals(day):
                total += max(_ZERO, min(closing, end) - max(opening, start))
            day += _DAY
        return total

    def _intervals_from(self, start: datetime) -> Iterator[Interval]:
        """Open intervals from `start` on, in order, the first one cut to begin at `start`."""
        if not any(self._weekly.values()):
            raise ValueError("the business hours never open")
        day = self._local_date(start)
        closed_days = 0
        while True:
            intervals = [(max(o, start), c) for o, c in self._day_intervals(day) if c > start]
            closed_days = 0 if intervals else closed_days + 1
            if closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(
                    f"the business hours do not open within {_MAX_CLOSED_DAYS} days"
                    f" of {start.isoformat()}"
                )
            yield from intervals
            day += _DAY

    def _wall_hours(self, day: date) -> tuple[WallHours, ...]:
        if self._weekly is None:
            return ((_ZERO, _DAY),)
        if day in self._holidays:
            return ()
        return self._weekly[day.weekday()]

    def _day_intervals(self, day: date) -> list[Interval]:
        """The UTC instants whose local date is `day` and whose wall time is within hours."""
        hours = self._wall_hours(day)
        if not hours:
            return []
        midnight = datetime.combine(day, time())
        intervals = []
        for stretch in self._stretches(day):
            for opening, closing in hours:
                interval = _wall_to_utc(stretch, midnight + opening, midnight + closing)
                if interval:
                    intervals.append(interval)
        return intervals

    def _stretches(self, day: date) -> list[_Stretch]:
        """Constant-offset stretches of UTC time covering the local `day`."""
        first = self._local_midnight(day) - _MARGIN
        last = self._local_midnight(day + _DAY) + _MARGIN
        before, after = self._offset(first), self._offset(last)
        if before == after:
            return [_Stretch(first, last, before)]
        change = self._offset_change(first, last)
        return [_Stretch(first, change, before), _Stretch(change, last, after)]

    def _offset_change(self, low: datetime, high: datetime) -> datetime:
        """The first instant after `low` with `high`'s offset, found by bisection."""
        # Zones change offset on whole seconds, so bisecting seconds finds the exact instant.
        before = self._offset(low)
        low_second, high_second = int(low.timestamp()), int(high.timestamp())
        while high_second - low_second > 1:
            middle = (low_second + high_second) // 2
            if self._offset(datetime.fromtimestamp(middle, UTC)) == before:
                low_second = middle
            else:
                high_second = middle
        return datetime.fromtimestamp(high_second, UTC)

    def _local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self._zone).astimezone(UTC)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self._zone).date()

    def _offset(self, moment: datetime) -> timedelta:
        return moment.astimezone(self._zone).utcoffset()


def _wall_to_utc(stretch: _Stretch, opening: datetime, closing: datetime) -> Interval | None:
    """The part of `stretch` whose (naive) wall time is in [opening, closing), in UTC."""
    wall_start = stretch.start.replace(tzinfo=None) + stretch.offset
    wall_end = stretch.end.replace(tzinfo=None) + stretch.offset
    start, end = max(opening, wall_start), min(closing, wall_end)
    if start >= end:
        return None
    return (
        (start - stretch.offset).replace(tzinfo=UTC),
        (end - stretch.offset).replace(tzinfo=UTC),
    )


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _weekly_wall_hours(
    weekly: dict[int, list[tuple[time, time]]],
) -> dict[int, tuple[WallHours, ...]]:
    if not set(weekly) <= set(range(7)):
        raise ValueError(f"weekdays run from 0 (Monday) to 6 (Sunday), got {sorted(weekly)}")
    return {day: _merged(weekly.get(day, [])) for day in range(7)}


def _merged(spans: list[tuple[time, time]]) -> tuple[WallHours, ...]:
    """Spans as sorted wall hours, overlapping or touching ones joined."""
    merged: list[WallHours] = []
    for opening, closing in sorted(_wall_span(start, end) for start, end in spans):
        if merged and opening <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closing))
        else:
            merged.append((opening, closing))
    return tuple(merged)


def _wall_span(start: time, end: time) -> WallHours:
    opening = _since_midnight(start)
    closing = _since_midnight(end) or _DAY  # a closing of 00:00 can only mean 24:00
    if closing <= opening:
        raise ValueError(
            f"hours {start:%H:%M}-{end:%H:%M} end before they start; hours cannot span midnight"
        )
    return opening, closing


def _since_midnight(clock: time) -> timedelta:
    return timedelta(
        hours=clock.hour, minutes=clock.minute, seconds=clock.second, microseconds=clock.microsecond
    )


def _parse_weekly(business_hours: dict[str, str]) -> dict[int, list[tuple[time, time]]]:
    """`{"mon-fri": "09:00-18:00"}` as `{0: [(09:00, 18:00)], ..., 4: [(09:00, 18:00)]}`."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for day_range, hours in business_hours.items():
        for day in days_of(day_range):
            weekly.setdefault(day, []).append(_parse_hours(hours))
    return weekly


def _parse_hours(text: str) -> tuple[time, time]:
    start, separator, end = text.strip().partition("-")
    if not separator or start == "24:00":
        raise ValueError(f"hours {text!r}: expected HH:MM-HH:MM such as 09:00-18:00")
    return _parse_clock(start), _parse_clock(end)


def _parse_clock(text: str) -> time:
    if text == "24:00":
        return time(0)  # as a closing time: midnight at the end of the day
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"time {text!r}: expected HH:MM from 00:00 to 24:00") from None


def _parse_holiday(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"holiday {text!r}: expected a date YYYY-MM-DD") from None
