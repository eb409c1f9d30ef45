"""Days from an incident's local start day to done, counted in SQL: the zone's offsets over a
range, found to the second, daylight saving time included."""

from datetime import UTC, date, datetime

import pytest

from postmortems.reports.month_ranges import local_day_offsets


@pytest.fixture
def app_config(app_config):
    return {**app_config, "TIMEZONE": "America/Los_Angeles"}


def test_offsets_change_where_daylight_saving_time_does(app) -> None:
    with app.app_context():
        offsets = local_day_offsets(date(2021, 1, 1), date(2022, 1, 1))
    assert offsets == [
        (None, -8 * 3600),
        (datetime(2021, 3, 14, 10, tzinfo=UTC), -7 * 3600),
        (datetime(2021, 11, 7, 9, tzinfo=UTC), -8 * 3600),
    ]


def test_a_zone_without_changes_has_one_offset(app) -> None:
    app.config["TIMEZONE"] = "Asia/Tokyo"
    with app.app_context():
        assert local_day_offsets(date(2020, 1, 1), date(2030, 1, 1)) == [(None, 9 * 3600)]
