"""Action-item figures (issue 19): they follow the incident set (near-misses in or out with
their incidents) and partition the items as of one day into done, won't do, overdue and open
and not yet due, adding up to the whole, on the page, in JSON and in Markdown."""

from datetime import UTC, date, datetime
from typing import Any

from models import ActionItem, ActionStatus, ActionType, LessonGroup
from postmortems.reports.figures import ReportFilters
from postmortems.reports.periods import Quarter
from postmortems.reports.piece_store import group_figures
from postmortems.reports.render import quarterly_markdown
from postmortems.reports.service import quarterly_report
from tests.factories import make_incident, utc

Q1 = Quarter.parse("2021Q1")


def item(status: ActionStatus, due: date | None = None, **days: Any) -> ActionItem:
    return ActionItem(
        title=f"Item {status.name}",
        group=LessonGroup.TECHNICAL,
        type=ActionType.CORRECTIVE,
        status=status,
        due_on=due,
        **days,
    )


def parts(actions: Any) -> tuple[int, int, int, int, int]:
    return (actions.total, actions.done, actions.wont_do, actions.overdue, actions.open_not_due)


def figures_on(as_of: date, *, near_misses: bool = True) -> Any:
    filters = ReportFilters(Q1.first_day, Q1.last_day, near_misses=near_misses)
    span = [("q", Q1.first_day, Q1.next_first_day)]
    return group_figures(filters, span, as_of)["q"].actions


def test_the_four_parts_add_up_as_of_any_day(db) -> None:
    incident = make_incident("Mixed", started_at=utc(2021, 1, 10, 12))
    incident.action_items = [
        item(ActionStatus.DONE, date(2021, 2, 1), completed_on=date(2021, 4, 5)),
        item(ActionStatus.WONT_DO, date(2021, 2, 1), decided_on=date(2021, 3, 1)),
        item(ActionStatus.OPEN, date(2021, 3, 15)),
        item(ActionStatus.IN_PROGRESS, None),
    ]
    db.commit()
    # As of the quarter's last day the done item was still open and past due.
    assert parts(figures_on(date(2021, 3, 31))) == (4, 0, 1, 2, 1)
    # Before the decision and the due days: all open, none due.
    assert parts(figures_on(date(2021, 1, 20))) == (4, 0, 0, 0, 4)
    # On the day it was done, it is done and not overdue.
    assert parts(figures_on(date(2021, 4, 5))) == (4, 1, 1, 1, 1)


def test_an_item_completed_today_is_not_overdue_today(db) -> None:
    incident = make_incident("Fixed today", started_at=utc(2021, 1, 10, 12))
    incident.action_items = [
        item(ActionStatus.DONE, date(2021, 2, 1), completed_on=date(2021, 3, 3)),
    ]
    db.commit()
    assert parts(figures_on(date(2021, 3, 3))) == (1, 1, 0, 0, 0)
    assert parts(figures_on(date(2021, 3, 2))) == (1, 0, 0, 1, 0)


def test_a_decision_with_no_recorded_day_counts_since_the_incident_began(db) -> None:
    incident = make_incident("Old decision", started_at=utc(2021, 1, 10, 12))
    incident.action_items = [item(ActionStatus.WONT_DO, date(2021, 1, 12))]
    db.commit()
    assert parts(figures_on(date(2021, 1, 9))) == (1, 0, 0, 0, 1)
    assert parts(figures_on(date(2021, 1, 10))) == (1, 0, 1, 0, 0)
    assert parts(figures_on(date(2021, 3, 31))) == (1, 0, 1, 0, 0)


def test_near_misses_items_follow_the_near_miss_choice(db) -> None:
    incident = make_incident("Incident", started_at=utc(2021, 1, 10, 12))
    incident.action_items = [item(ActionStatus.OPEN, date(2021, 2, 1))]
    near = make_incident("Near-miss", started_at=utc(2021, 2, 10, 12), is_near_miss=True)
    near.action_items = [item(ActionStatus.DONE, None, completed_on=date(2021, 2, 20))]
    db.commit()
    assert parts(figures_on(date(2021, 3, 31))) == (2, 1, 0, 1, 0)
    assert parts(figures_on(date(2021, 3, 31), near_misses=False)) == (1, 0, 0, 1, 0)
    left_out = quarterly_report(Q1, None, now=datetime.now(UTC), near_misses=False)
    assert (left_out.actions_opened, left_out.actions_closed) == (1, 0)
    counted = quarterly_report(Q1, None, now=datetime.now(UTC))
    assert (counted.actions_opened, counted.actions_closed) == (2, 1)


def test_the_quarterly_review_says_the_partition_and_it_agrees_with_closed(client, db) -> None:
    incident = make_incident("Late fix", started_at=utc(2021, 1, 10, 12))
    incident.action_items = [
        item(ActionStatus.DONE, date(2021, 2, 1), completed_on=date(2021, 2, 3)),
        item(ActionStatus.DONE, date(2021, 2, 1), completed_on=date(2021, 5, 3)),
        item(ActionStatus.OPEN, date(2021, 4, 1)),
    ]
    db.commit()
    report = quarterly_report(Q1, None, now=datetime.now(UTC))
    a = report.figures.actions
    assert a.as_of == Q1.last_day
    assert parts(a) == (3, 1, 0, 1, 1)
    # Done by the quarter's end is closed in the quarter: never more done than closed.
    assert report.actions_closed == 1
    assert report.actions_overdue_at_end == 1
    text = quarterly_markdown(report)
    assert (
        "- on this quarter's incidents: 3; done 1 (33.3 %), won't do 0 (0.0 %), "
        "overdue 1 (33.3 %), open, not yet due 1 (33.3 %)"
    ) in text
    assert "As of the end of 2021-03-31: done = completed by then" in text
    data = client.get("/reports/quarterly/2021Q1.json").get_json()
    items = data["this_quarter"]["action_items"]
    assert (items["total"], items["done"], items["wont_do"], items["overdue"]) == (3, 1, 0, 1)
    assert items["open_not_due"] == 1
    assert items["overdue_as_of"] == "2021-03-31"
    assert items["share_open_not_due"] == "0.3333"
    assert data["action_items_at_quarter_end"] == {
        "as_of": "2021-03-31",
        "opened": 3,
        "closed": 1,
        "overdue": 1,
    }
    page = client.get("/reports/quarterly/2021Q1").get_data(as_text=True)
    assert "open, not yet due 1 (33.3 %)" in page
    assert "As of the end of 2021-03-31" in page


def test_closed_in_the_quarter_agrees_with_a_plain_recount(db) -> None:
    """Every kind of closing day, in and around the quarter, for incidents of this quarter
    and of others: 'closed in the quarter' is read through three indexes, and must count
    exactly what figures.closed_on says, as recounted here from the rows."""
    days = [None, date(2020, 12, 31), date(2021, 1, 1), date(2021, 2, 14), date(2021, 3, 31)]
    days += [date(2021, 4, 1)]
    starts = [utc(2020, 11, 5, 12), utc(2021, 2, 1, 12), utc(2021, 6, 1, 12)]
    made = []
    for n, started in enumerate(starts):
        incident = make_incident(f"Incident {n}", started_at=started)
        for status in (ActionStatus.DONE, ActionStatus.WONT_DO, ActionStatus.OPEN):
            for completed in days:
                for decided in days if status is ActionStatus.WONT_DO else [None]:
                    incident.action_items.append(
                        item(status, None, completed_on=completed, decided_on=decided)
                    )
        made.append(incident)
    db.commit()

    def closed_day(incident: Any, a: ActionItem) -> date | None:
        start_day = incident.started_at.date()
        if a.status is ActionStatus.DONE:
            return a.completed_on or start_day
        if a.status is ActionStatus.WONT_DO:
            return a.decided_on or a.completed_on or start_day
        return None

    expected = sum(
        1
        for incident in made
        for a in incident.action_items
        if (day := closed_day(incident, a)) is not None and Q1.first_day <= day <= Q1.last_day
    )
    assert expected > 0
    assert quarterly_report(Q1, None, now=datetime.now(UTC)).actions_closed == expected
