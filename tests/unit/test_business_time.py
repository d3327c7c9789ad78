"""The business calendar: hand-computed cases in three zones, then properties.

Expected instants are written in UTC, worked out by hand from each zone's offsets, so the
tests check the zone handling rather than repeat it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Policy
from bot.core.business_time import BusinessCalendar

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"
WEEKDAYS = {"mon-fri": "09:00-18:00"}
WITH_SATURDAY = {"mon-fri": "09:00-18:00", "sat": "10:00-14:00"}
EVERY_DAY = {"mon-sun": "09:00-18:00"}
ROUND_THE_CLOCK = {"mon-sun": "00:00-24:00"}
HOUR = timedelta(hours=1)


def calendar(
    zone: str = "UTC", hours: dict[str, str] | None = None, holidays: tuple[str, ...] = ()
) -> BusinessCalendar:
    policy = Policy(timezone=zone, business_hours=hours, holidays=list(holidays))
    return BusinessCalendar.from_policy(policy)


def local(zone: str, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=ZoneInfo(zone))


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def local_day(zone: str, year: int, month: int, day: int) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight."""
    start = local(zone, year, month, day)
    return start, datetime.combine(start.date() + timedelta(days=1), time(), start.tzinfo)


# Friday 2026-01-09 17:30 local; January keeps New York on -5 and Berlin on +1.
@pytest.mark.parametrize(
    ("zone", "friday_1730", "monday_0930"),
    [
        ("UTC", utc(2026, 1, 9, 17, 30), utc(2026, 1, 12, 9, 30)),
        (NEW_YORK, utc(2026, 1, 9, 22, 30), utc(2026, 1, 12, 14, 30)),
        (BERLIN, utc(2026, 1, 9, 16, 30), utc(2026, 1, 12, 8, 30)),
    ],
)
def test_friday_evening_target_finishes_monday_morning(zone, friday_1730, monday_0930):
    hours = calendar(zone, WEEKDAYS)
    assert hours.add(friday_1730, HOUR) == monday_0930
    assert hours.elapsed(friday_1730, monday_0930) == HOUR
    assert hours.elapsed(friday_1730, friday_1730 + 2 * HOUR) == timedelta(minutes=30)


def test_saturday_arrival_waits_for_monday():
    saturday_11 = local(NEW_YORK, 2026, 1, 10, 11)
    assert calendar(NEW_YORK, WEEKDAYS).add(saturday_11, HOUR) == utc(2026, 1, 12, 15)


def test_saturday_arrival_counts_saturday_hours_when_open():
    saturday_11 = local(NEW_YORK, 2026, 1, 10, 11)
    assert calendar(NEW_YORK, WITH_SATURDAY).add(saturday_11, HOUR) == utc(2026, 1, 10, 17)
    # 30 minutes before Saturday closes at 14:00, 30 on Monday from 09:00 (+1 in Berlin).
    saturday_1330 = local(BERLIN, 2026, 1, 10, 13, 30)
    assert calendar(BERLIN, WITH_SATURDAY).add(saturday_1330, HOUR) == utc(2026, 1, 12, 8, 30)


def test_arrival_at_midnight_starts_when_the_day_opens():
    hours = calendar("UTC", WEEKDAYS)
    assert hours.add(utc(2026, 1, 13), HOUR) == utc(2026, 1, 13, 10)
    assert hours.next_open(utc(2026, 1, 10)) == utc(2026, 1, 12, 9)
    assert not hours.is_open(utc(2026, 1, 13))


def test_night_shift_runs_through_midnight_as_two_days_intervals():
    # Constructed directly: the policy gives each day one span, the night shift needs two.
    evening, early = (time(20), time(0)), (time(0), time(6))
    weekly = {day: [] for day in range(7)}
    for day in range(5):
        weekly[day].append(evening)
        weekly[day + 1].append(early)
    shift = BusinessCalendar(ZoneInfo(BERLIN), weekly, frozenset())
    assert shift.add(local(BERLIN, 2026, 1, 12, 23, 30), HOUR) == utc(2026, 1, 12, 23, 30)
    assert shift.is_open(local(BERLIN, 2026, 1, 13))
    assert not shift.is_open(local(BERLIN, 2026, 1, 12, 5))  # no early shift on Monday
    assert not shift.is_open(local(BERLIN, 2026, 1, 17, 6))
    # Friday 23:00: 1 h Friday, 6 h Saturday morning, then Monday 20:00-21:00 (+1 in Berlin).
    assert shift.add(local(BERLIN, 2026, 1, 16, 23), 8 * HOUR) == utc(2026, 1, 19, 20)


def test_closing_at_2400_is_the_end_of_the_day():
    whole_days = calendar(BERLIN, ROUND_THE_CLOCK)
    assert not whole_days.always_open
    week = local(BERLIN, 2026, 1, 12)
    assert whole_days.elapsed(week, week + timedelta(days=7)) == timedelta(days=7)


def test_holiday_in_the_middle_is_skipped():
    thursday_16 = local(NEW_YORK, 2026, 7, 2, 16)
    july = calendar(NEW_YORK, WEEKDAYS, holidays=("2026-07-03",))
    # 2 h on Thursday, Friday closed, 7 h on Monday; July is -4 in New York.
    assert july.add(thursday_16, 9 * HOUR) == utc(2026, 7, 6, 20)
    assert calendar(NEW_YORK, WEEKDAYS).add(thursday_16, 9 * HOUR) == utc(2026, 7, 3, 20)
    assert not july.is_open(local(NEW_YORK, 2026, 7, 3, 12))


def test_christmas_holidays_in_berlin():
    december = calendar(BERLIN, WEEKDAYS, holidays=("2026-12-24", "2026-12-25"))
    wednesday_17 = local(BERLIN, 2026, 12, 23, 17)
    assert december.add(wednesday_17, 2 * HOUR) == utc(2026, 12, 28, 9)
    assert december.elapsed(wednesday_17, utc(2026, 12, 28, 9)) == 2 * HOUR


def test_long_holiday_period_is_walked_quickly():
    three_years_off = tuple(str(date(2026, 1, 1) + timedelta(days=n)) for n in range(1096))
    hours = calendar(NEW_YORK, WEEKDAYS, holidays=three_years_off)
    # Back on Monday 2029-01-01: three 9-hour days, done Wednesday 18:00 (-5 in January).
    assert hours.add(utc(2026, 1, 1), 27 * HOUR) == utc(2029, 1, 3, 23)


# A 9-hour business day and a "1d" target (24 business hours) from Friday 14:00 local,
# across the weekend the clocks change: the target ends at 14:00 Monday and 11:00 Wednesday.
@pytest.mark.parametrize(
    ("zone", "friday_14", "monday_14", "wednesday_11"),
    [
        (NEW_YORK, utc(2026, 3, 6, 19), utc(2026, 3, 9, 18), utc(2026, 3, 11, 15)),
        (NEW_YORK, utc(2026, 10, 30, 18), utc(2026, 11, 2, 19), utc(2026, 11, 4, 16)),
        (BERLIN, utc(2026, 3, 27, 13), utc(2026, 3, 30, 12), utc(2026, 4, 1, 9)),
        (BERLIN, utc(2026, 10, 23, 12), utc(2026, 10, 26, 13), utc(2026, 10, 28, 10)),
    ],
)
def test_weekday_targets_across_a_clock_change(zone, friday_14, monday_14, wednesday_11):
    hours = calendar(zone, WEEKDAYS)
    assert hours.add(friday_14, 9 * HOUR) == monday_14
    assert hours.add(friday_14, timedelta(days=1)) == wednesday_11
    assert hours.elapsed(friday_14, wednesday_11) == timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "day", "round_the_clock", "nine_to_six"),
    [
        (NEW_YORK, (2026, 3, 8), 23, 9),
        (NEW_YORK, (2026, 11, 1), 25, 9),
        (BERLIN, (2026, 3, 29), 23, 9),
        (BERLIN, (2026, 10, 25), 25, 9),
        ("UTC", (2026, 3, 29), 24, 9),
    ],
)
def test_a_clock_change_day_lasts_its_real_length(zone, day, round_the_clock, nine_to_six):
    start, end = local_day(zone, *day)
    assert calendar(zone).elapsed(start, end) == round_the_clock * HOUR
    assert calendar(zone, ROUND_THE_CLOCK).elapsed(start, end) == round_the_clock * HOUR
    assert calendar(zone, EVERY_DAY).elapsed(start, end) == nine_to_six * HOUR


@pytest.mark.parametrize(
    ("zone", "day", "night_hours", "odd_hour", "odd_hour_lasts"),
    [
        (NEW_YORK, (2026, 3, 8), 5, "02:00-03:00", 0),  # skipped
        (NEW_YORK, (2026, 11, 1), 7, "01:00-02:00", 2),  # happens twice
        (BERLIN, (2026, 3, 29), 5, "02:00-03:00", 0),
        (BERLIN, (2026, 10, 25), 7, "02:00-03:00", 2),
    ],
)
def test_night_hours_on_a_clock_change(zone, day, night_hours, odd_hour, odd_hour_lasts):
    start, end = local_day(zone, *day)
    assert calendar(zone, {"sun": "00:00-06:00"}).elapsed(start, end) == night_hours * HOUR
    assert calendar(zone, {"sun": odd_hour}).elapsed(start, end) == odd_hour_lasts * HOUR


def test_hours_opening_inside_the_spring_gap_open_when_the_clock_jumps():
    # New York 2026-03-08: 01:59:59 EST (06:59:59Z) is followed by 03:00 EDT (07:00Z).
    hours = calendar(NEW_YORK, {"sun": "02:30-04:00"})
    assert hours.next_open(utc(2026, 3, 8, 6)) == utc(2026, 3, 8, 7)
    assert hours.elapsed(*local_day(NEW_YORK, 2026, 3, 8)) == HOUR
    assert not hours.is_open(utc(2026, 3, 8, 6, 59, 59))


def test_round_the_clock_is_plain_arithmetic_and_ignores_holidays():
    hours = calendar(BERLIN, holidays=("2026-12-25",))
    christmas = local(BERLIN, 2026, 12, 25, 12)
    assert hours.always_open
    assert hours.is_open(christmas)
    assert hours.add(christmas, timedelta(days=3, minutes=7)) == utc(2026, 12, 28, 11, 7)
    assert hours.elapsed(christmas, christmas + 5 * HOUR) == 5 * HOUR
    assert hours.next_open(christmas) == christmas


def test_nothing_elapses_outside_hours_or_backwards():
    hours = calendar(NEW_YORK, WEEKDAYS)
    friday_18, monday_9 = local(NEW_YORK, 2026, 1, 9, 18), local(NEW_YORK, 2026, 1, 12, 9)
    assert hours.elapsed(friday_18, monday_9) == timedelta(0)
    assert hours.elapsed(monday_9 + HOUR, monday_9) == timedelta(0)
    assert hours.elapsed(monday_9, monday_9) == timedelta(0)


def test_zero_duration_is_the_next_open_instant():
    hours = calendar(BERLIN, WEEKDAYS)
    monday_10 = local(BERLIN, 2026, 1, 12, 10)
    assert hours.add(monday_10, timedelta(0)) == monday_10
    assert hours.add(local(BERLIN, 2026, 1, 10, 10), timedelta(0)) == utc(2026, 1, 12, 8)
    assert hours.add(local(BERLIN, 2026, 1, 12, 18), timedelta(0)) == utc(2026, 1, 13, 8)


def test_results_are_in_utc():
    due = calendar(BERLIN, WEEKDAYS).add(local(BERLIN, 2026, 1, 12, 10), HOUR)
    assert due.tzinfo is UTC


def test_hours_that_never_open_raise_instead_of_looping():
    closed = BusinessCalendar(ZoneInfo(BERLIN), {}, frozenset())
    moment = utc(2026, 1, 12)
    with pytest.raises(ValueError, match="the business hours never open"):
        closed.add(moment, HOUR)
    with pytest.raises(ValueError, match="the business hours never open"):
        closed.next_open(moment)
    assert not closed.is_open(moment)
    assert closed.elapsed(moment, moment + timedelta(days=30)) == timedelta(0)


def test_holidays_closing_every_open_day_for_ten_years_raise():
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=n) for n in range(600))
    mondays_only = BusinessCalendar(ZoneInfo("UTC"), {0: [(time(9), time(17))]}, mondays)
    with pytest.raises(ValueError, match="do not open within 3660 days"):
        mondays_only.add(utc(2026, 1, 1), HOUR)


@pytest.mark.parametrize("method", ["is_open", "next_open"])
def test_naive_datetimes_are_refused(method):
    with pytest.raises(ValueError, match="timezone-aware"):
        getattr(calendar("UTC", WEEKDAYS), method)(datetime(2026, 1, 12, 10))


def test_naive_datetimes_are_refused_by_add_and_elapsed():
    hours = calendar("UTC", WEEKDAYS)
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.add(datetime(2026, 1, 12, 10), HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.elapsed(utc(2026, 1, 12), datetime(2026, 1, 13))


def test_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        calendar("UTC", WEEKDAYS).add(utc(2026, 1, 12), -HOUR)


def test_policy_day_ranges_and_spans():
    hours = calendar("UTC", {"mon-wed": "08:00-12:00", "sat": "10:00-24:00"})
    assert hours.elapsed(utc(2026, 1, 12), utc(2026, 1, 19)) == 3 * 4 * HOUR + 14 * HOUR
    assert hours.is_open(utc(2026, 1, 17, 23, 59))
    assert not hours.is_open(utc(2026, 1, 15, 9))


@pytest.mark.parametrize("span", ["09:00-24:30", "24:00-24:30"])
def test_spans_past_midnight_are_refused(span):
    with pytest.raises(ValueError, match="expected HH:MM"):
        calendar("UTC", {"mon": span})


def test_constructor_refuses_hours_that_end_before_they_start():
    with pytest.raises(ValueError, match="end before they start"):
        BusinessCalendar(ZoneInfo("UTC"), {0: [(time(18), time(9))]}, frozenset())


def test_constructor_merges_overlapping_spans():
    weekly = {0: [(time(9), time(13)), (time(12), time(18)), (time(18), time(19))]}
    hours = BusinessCalendar(ZoneInfo("UTC"), weekly, frozenset())
    assert hours.elapsed(utc(2026, 1, 12), utc(2026, 1, 13)) == 10 * HOUR


# Properties: random calendars and instants, often hours or days from a clock change in
# the calendar's own zone, where wall time and real time part.

SHAPES = {
    "weekdays 9-17": {day: [(time(9), time(17))] for day in range(5)},
    "weekdays and saturday": {
        **{day: [(time(9), time(17))] for day in range(5)},
        5: [(time(10), time(14))],
    },
    "night shift": {
        0: [(time(20), time(0))],
        **{day: [(time(0), time(6)), (time(20), time(0))] for day in range(1, 5)},
        5: [(time(0), time(6))],
    },
    # Every day, so that the days the clocks change on are open too.
    "small hours": {day: [(time(1, 30), time(3, 30))] for day in range(7)},
    "00:00-24:00": {day: [(time(0), time(0))] for day in range(7)},
    "around the clock": None,
}
CLOCK_CHANGES = {
    "UTC": [utc(2026, 3, 29)],
    "Asia/Kathmandu": [utc(2026, 3, 29)],  # +05:45 all year
    NEW_YORK: [utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)],
    BERLIN: [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)],
    "Australia/Lord_Howe": [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)],  # half-hour shifts
}
any_instant = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
durations = st.timedeltas(timedelta(0), timedelta(days=10))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    zone = draw(st.sampled_from(sorted(CLOCK_CHANGES)))
    change = draw(st.sampled_from(CLOCK_CHANGES[zone]))
    days_off = draw(st.sets(st.integers(-5, 20), max_size=6))
    holidays = frozenset(change.date() + timedelta(days=n) for n in days_off)
    weekly = SHAPES[draw(st.sampled_from(sorted(SHAPES)))]
    near_change = st.one_of(
        st.timedeltas(-timedelta(days=4), timedelta(days=4)),
        st.timedeltas(-timedelta(hours=6), timedelta(hours=6)),
    ).map(lambda shift: change + shift)
    start = draw(st.one_of(any_instant, near_change))
    return BusinessCalendar(ZoneInfo(zone), weekly, holidays), start


modest = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@modest
@given(scenarios(), durations)
def test_add_then_elapsed_gives_the_duration_back(scenario, duration):
    hours, start = scenario
    due = hours.add(start, duration)
    assert hours.elapsed(start, due) == duration
    assert hours.elapsed(hours.next_open(start), due) == duration


@modest
@given(scenarios(), durations, durations)
def test_add_is_monotonic_in_the_duration(scenario, first, second):
    hours, start = scenario
    shorter, longer = sorted([first, second])
    assert start <= hours.add(start, shorter) <= hours.add(start, longer)


@modest
@given(scenarios())
def test_next_open_is_open_and_nothing_elapses_before_it(scenario):
    hours, moment = scenario
    opening = hours.next_open(moment)
    assert hours.is_open(opening)
    assert hours.elapsed(moment, opening) == timedelta(0)
    if hours.is_open(moment):
        assert opening == moment


@modest
@given(scenarios())
def test_is_open_agrees_with_elapsed(scenario):
    hours, moment = scenario
    tick = timedelta(microseconds=1)
    assert hours.is_open(moment) == (hours.elapsed(moment, moment + tick) == tick)


@modest
@given(scenarios(), durations, durations)
def test_elapsed_adds_up_over_consecutive_stretches(scenario, first, second):
    hours, start = scenario
    middle, end = start + first, start + first + second
    assert hours.elapsed(start, middle) + hours.elapsed(middle, end) == hours.elapsed(start, end)
