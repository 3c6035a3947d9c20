"""Chinese working days (工作日): the deadlines of leads, approvals and notices are counted in them.

A day is a working day when it is a weekday that is no public holiday, or a weekend day worked
in lieu (调休, e.g. Saturday 2026-02-28 after the Spring Festival). The national calendar comes
from `chinesecalendar`, which carries each year's State Council notice (published every
November for the next year; docs/decisions/0013-working-day-calendar.md). A place adds its own
days off (`extra_holidays`) or working days (`extra_workdays`) in the configuration
(accountability section), and those win over the national calendar. For a year the package does
not know yet, only weekends are days off (plus the configured extras), and a warning says so
once per year.

Counting: the due date of a period of n working days from a start date is the n-th working day
after the start (the start itself does not count, as a notice served on a Friday gives its
first day on Monday).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)


class WorkCalendar:
    """Working days with a place's extra days off and on."""

    def __init__(self, extra_holidays: Iterable[dt.date] = (),
                 extra_workdays: Iterable[dt.date] = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self._between: dict[tuple[dt.date, dt.date], int] = {}
        both = self.extra_holidays & self.extra_workdays
        if both:
            raise ValueError("a day is both an extra holiday and an extra working day: "
                             + ", ".join(str(d) for d in sorted(both)))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        return _national(day)

    def add(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (`start` itself when days is 0)."""
        if days < 0:
            raise ValueError(f"a period of {days} working days")
        day = start
        while days:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                days -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is
        earlier (the working days from `end`, exclusive, to `start`, inclusive)."""
        if end < start:
            return -self.between(end, start)
        known = self._between.get((start, end))
        if known is None:  # a page counts the same few (due, today) pairs for many leads
            known = self._between[(start, end)] = sum(
                1 for n in range(1, (end - start).days + 1)
                if self.is_workday(start + dt.timedelta(days=n)))
        return known

    def remaining(self, due: dt.date, today: dt.date) -> int:
        """Working days left until `due` (0 on the due day itself); negative: working days
        overdue (-1 on the first working day after it)."""
        return self.between(today, due)


@lru_cache(maxsize=8192)
def _national(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_year(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=64)
def _warn_year(year: int) -> None:
    log.warning("the working-day calendar has no holidays for %d (chinesecalendar %s): only "
                "weekends count as days off; update the package or list that year's holidays "
                "in accountability.extra_holidays / extra_workdays", year,
                getattr(chinese_calendar, "__version__", "?"))
