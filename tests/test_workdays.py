"""Working-day arithmetic across the 2026 Spring Festival and National Day weeks (State Council
notice of 2025: Spring Festival 2026-02-15 to 02-23 off, Saturdays 02-14 and 02-28 worked;
National Day 10-01 to 10-07 off, Sunday 09-20 and Saturday 10-10 worked)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from pipelines.config import AccountabilityConfig
from pipelines.workdays import WorkCalendar

D = dt.date.fromisoformat
CAL = WorkCalendar()


@pytest.mark.parametrize(("day", "working"), [
    ("2026-02-13", True),   # Friday before the festival
    ("2026-02-14", True),   # Saturday worked in lieu (调休)
    ("2026-02-15", False), ("2026-02-17", False), ("2026-02-20", False), ("2026-02-23", False),
    ("2026-02-24", True),   # the first weekday back
    ("2026-02-28", True),   # Saturday worked in lieu
    ("2026-03-01", False),  # an ordinary Sunday
    ("2026-09-20", True),   # Sunday worked in lieu
    ("2026-10-01", False), ("2026-10-05", False), ("2026-10-07", False),
    ("2026-10-08", True), ("2026-10-10", True),  # Saturday worked in lieu
    ("2026-10-11", False),
])
def test_the_national_calendar_with_its_adjusted_weekends(day: str, working: bool) -> None:
    assert CAL.is_workday(D(day)) is working


def test_periods_across_the_spring_festival() -> None:
    # Friday 02-13 + 1: the 调休 Saturday; + 2: Tuesday 02-24 after nine days off
    assert CAL.add(D("2026-02-13"), 1) == D("2026-02-14")
    assert CAL.add(D("2026-02-13"), 2) == D("2026-02-24")
    # 15 working days from 02-10: 02-11,12,13,14 (Sat), 24,25,26,27,28 (Sat), 03-02..06, 03-09
    assert CAL.add(D("2026-02-10"), 15) == D("2026-03-09")
    assert CAL.between(D("2026-02-10"), D("2026-03-09")) == 15
    assert CAL.between(D("2026-03-09"), D("2026-02-10")) == -15
    # counted naively (weekdays only) the same period would end on 03-03
    assert CAL.add(D("2026-02-10"), 15) != D("2026-03-03")


def test_periods_across_national_day() -> None:
    # from Friday 09-18: Sunday 09-20 worked, 09-21..24 (09-25 is the Mid-Autumn Festival),
    # 09-28..30, then 10-08, 10-09, 10-10 (Saturday worked)
    assert not CAL.is_workday(D("2026-09-25"))
    assert CAL.add(D("2026-09-18"), 1) == D("2026-09-20")
    assert CAL.add(D("2026-09-18"), 9) == D("2026-10-08")
    assert CAL.add(D("2026-09-18"), 11) == D("2026-10-10")
    assert CAL.add(D("2026-09-18"), 12) == D("2026-10-12")
    assert CAL.add(D("2026-09-30"), 1) == D("2026-10-08")
    assert CAL.add(D("2026-10-01"), 0) == D("2026-10-01")


def test_remaining_and_overdue_days() -> None:
    due = D("2026-09-30")
    assert CAL.remaining(due, D("2026-09-28")) == 2
    assert CAL.remaining(due, due) == 0
    assert CAL.remaining(due, D("2026-10-05")) == 0  # the holiday week costs no lateness
    assert CAL.remaining(due, D("2026-10-08")) == -1
    assert CAL.remaining(due, D("2026-10-10")) == -3


def test_a_place_s_own_days_win_over_the_national_calendar() -> None:
    local = WorkCalendar(extra_holidays=[D("2026-02-24")], extra_workdays=[D("2026-03-01")])
    assert not local.is_workday(D("2026-02-24")) and local.is_workday(D("2026-03-01"))
    assert local.add(D("2026-02-13"), 2) == D("2026-02-25")
    with pytest.raises(ValueError, match="both an extra holiday and an extra working day"):
        WorkCalendar([D("2026-03-02")], [D("2026-03-02")])


def test_a_year_without_data_counts_weekends_only_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    import chinese_calendar

    year = 2040
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(year, 1, 2))
    with caplog.at_level(logging.WARNING):
        assert WorkCalendar().add(dt.date(year, 1, 6), 5) == dt.date(year, 1, 13)
    assert f"no holidays for {year}" in caplog.text


def test_periods_per_code_and_district_take_the_shorter() -> None:
    config = AccountabilityConfig(due_days_by_code={"DECEASED": 10},
                                  due_days_by_district={"江岸区": 5})
    assert config.due_days_for("VEHICLE", "武昌区") == 15
    assert config.due_days_for("DECEASED", "武昌区") == 10
    assert config.due_days_for("DECEASED", "江岸区") == 5
    assert config.due_days_for("VEHICLE", None) == 15
    with pytest.raises(ValueError, match="at least 1 working day"):
        AccountabilityConfig(due_days_by_code={"DECEASED": 0})
