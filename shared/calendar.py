"""Working days in a market's own calendar: its time zone, its weekend, its public holidays
and the make-up working days some markets move onto a weekend (China's 调休).

Pure: no clock, no I/O beyond the time-zone database. Delivery dates count working days
here (deliver-by and the estimated delivery date of `DeliveryCalendars`); any rule that
counts working days in a region may use `WorkingCalendar` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY_SUNDAY = frozenset({5, 6})  # date.weekday(): Monday 0 ... Sunday 6
# A calendar with no working day in a whole year is a configuration mistake, not a loop.
_SEARCH_LIMIT = 366


@dataclass(frozen=True)
class WorkingCalendar:
    """One market's calendar. A day is a working day when it is a `working_days` date (a
    make-up day on a weekend), or else when it is neither on the `weekend` nor a holiday."""

    time_zone: str = "UTC"
    weekend: frozenset[int] = SATURDAY_SUNDAY
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, at configuration
        if not self.weekend <= set(range(7)):
            raise ValueError(f"weekend days are 0 (Monday) to 6 (Sunday), not {self.weekend}")

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_working_days(self, day: date, n: int) -> date:
        """The `n`th working day after `day` (n=0: `day` if it is one, else the next one)."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return self.first_working_day(day)
        current = day
        for _ in range(n):
            current = self.first_working_day(current + timedelta(days=1))
        return current

    def first_working_day(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        for offset in range(_SEARCH_LIMIT):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within a year from {day}")

    def local_date(self, instant: datetime) -> date:
        """The calendar day `instant` (timezone-aware) falls on here."""
        return instant.astimezone(ZoneInfo(self.time_zone)).date()

    def end_of_day(self, day: date) -> datetime:
        """The last instant of `day` here, in UTC."""
        return datetime.combine(day, time.max, ZoneInfo(self.time_zone)).astimezone(UTC)


@dataclass(frozen=True)
class DeliveryCalendars:
    """Delivery dates by destination country: the country's calendar and its delivery time
    in working days; a country not listed uses `default` and `working_days`."""

    calendars: Mapping[str, WorkingCalendar] = field(default_factory=dict)
    working_days: int = 5
    working_days_by_country: Mapping[str, int] = field(default_factory=dict)
    default: WorkingCalendar = WorkingCalendar()

    def calendar(self, country: str) -> WorkingCalendar:
        return self.calendars.get(country.upper(), self.default)

    def delivery_working_days(self, country: str) -> int:
        return self.working_days_by_country.get(country.upper(), self.working_days)

    def delivery_date(self, country: str, start: datetime, at_most: int | None = None) -> date:
        """The day a parcel leaving at `start` is due at the latest in `country`: the
        country's delivery time in working days after the local day of `start`, or `at_most`
        working days where that is shorter (a faster shipping option)."""
        calendar = self.calendar(country)
        days = self.delivery_working_days(country)
        if at_most is not None:
            days = min(days, at_most)
        return calendar.add_working_days(calendar.local_date(start), days)

    def deliver_by(self, country: str, dispatch_deadline: datetime) -> datetime:
        """An order's deliver-by: the end of its delivery date counted from the dispatch
        deadline, in the destination's time zone (as UTC)."""
        return self.calendar(country).end_of_day(self.delivery_date(country, dispatch_deadline))


def dates(values: Iterable[date | str]) -> frozenset[date]:
    return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)


def date_range(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# The defaults a deployment starts from (SHOPFLOW_DELIVERY_CALENDARS replaces a country's).
# China 2026, from the State Council's holiday notice: public holidays, and the weekend days
# worked to make up for them.
CHINA_2026 = WorkingCalendar(
    time_zone="Asia/Shanghai",
    holidays=dates(
        [
            *date_range("2026-01-01", "2026-01-03"),  # New Year
            *date_range("2026-02-15", "2026-02-23"),  # Spring Festival
            *date_range("2026-04-04", "2026-04-06"),  # Qingming
            *date_range("2026-05-01", "2026-05-05"),  # Labour Day
            *date_range("2026-06-19", "2026-06-21"),  # Dragon Boat
            *date_range("2026-09-25", "2026-09-27"),  # Mid-Autumn
            *date_range("2026-10-01", "2026-10-07"),  # National Day
        ]
    ),
    working_days=dates(
        ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    ),
)
DEFAULT_CALENDARS: Mapping[str, WorkingCalendar] = {"CN": CHINA_2026}
DEFAULT_DELIVERY = DeliveryCalendars(calendars=DEFAULT_CALENDARS)
