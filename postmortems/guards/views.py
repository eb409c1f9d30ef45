"""Guard check pages: the list, one guard with its state, runs and what it protects, its
form, a run recorded by hand, what is at risk, and how well each guard has done."""

from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import load_only

from models import GuardCheck, Incident
from postmortems.cache import cached
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError, NotFoundError
from postmortems.guards.chart import bars, weekly_runs
from postmortems.guards.escapes import EscapeCount, escape_counts, escapes_of_guard
from postmortems.guards.forms import GuardCheckForm, GuardRunForm
from postmortems.guards.risk import (
    PASS_RATE_DAYS,
    at_risk_guards,
    effectiveness,
    report_figures_for_template,
)
from postmortems.guards.runs import (
    RUNS_NEWEST_FIRST,
    GuardFacts,
    current_guard_states,
    guard_facts,
    list_runs,
    record_run,
)
from postmortems.guards.service import (
    GUARD_INCIDENTS,
    action_item_counts,
    count_protected,
    create_guard,
    linked_action_items,
    list_guards,
    protected_incidents,
    update_guard,
)
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS
from postmortems.pagination import (
    CursorError,
    Position,
    paginate_keyset,
    position_args,
    position_of_page,
    position_query,
    read_position,
)
from postmortems.policy import requires

bp = Blueprint("guards", __name__, url_prefix="/guards")


RUNS_PER_PAGE = 20


@bp.app_template_global("guard_report")
def _guard_report(start: object, end: object) -> object:
    """The guard figures of a report (its templates include guards/_report.html)."""
    return report_figures_for_template(start, end)


@bp.app_template_global("guard_escapes_seen")
def _guard_escapes_seen(start: date, end: date) -> dict[int, EscapeCount]:
    """Per guard, the report's escapes split into those the reader may see (the rows of the
    guard's page it links to) and those hidden from them; from the command line, all."""
    return escape_counts(current_user if current_user.is_authenticated else None, start, end)


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/")
def index() -> ResponseReturnValue:
    """List every guard check with its state and last pass."""
    facts = current_guard_states(_now())
    # The same table for everyone: rendered once per data version and set of states.
    states = tuple(sorted((gid, fact.state.name) for gid, fact in facts.items()))
    table = cached(("guard_list_html", states), lambda: _render_guard_table(facts), viewer=None)
    return render_template("guards/index.html", table=table)


def _render_guard_table(facts: dict[int, GuardFacts]) -> Markup:
    guards = session.scalars(list_guards()).all()
    return Markup(
        render_template(
            "guards/_table.html", guards=guards, counts=action_item_counts(), facts=facts
        )
    )


@bp.route("/<int:guard_id>")
def detail(guard_id: int) -> ResponseReturnValue:
    """One guard check with the incidents and action items it protects."""
    guard = get_or_404(GuardCheck, guard_id)
    total = count_protected(guard, current_user)
    protected = protected_incidents(guard, current_user, many=total >= ORDER_INDEX_FROM_ROWS)
    # The page names each postmortem: not its Markdown and HTML sections.
    protected = protected.options(load_only(Incident.key, Incident.title, Incident.started_at))
    per_page = current_app.config["INCIDENTS_PER_PAGE"]
    runs_stmt = list_runs(guard)
    lists = [  # the query-string names of each list's position, its rows, their key
        ("page", "", protected, GUARD_INCIDENTS, per_page, total),
        ("runs", "runs_", runs_stmt, RUNS_NEWEST_FIRST, RUNS_PER_PAGE, None),
    ]
    # Old numbered links (`?page=3`, `?runs=2`): to the same pages' links by key.
    if any(request.args.get(name, 1, type=int) > 1 for name, *_ in lists):
        query: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("page", "runs")}
        for name, prefix, stmt, keyset, size, _ in lists:
            number = request.args.get(name, 1, type=int)
            query |= position_query(position_of_page(stmt, keyset, number, size), prefix)
        return redirect(url_for("guards.detail", guard_id=guard.id, **query))
    positions = [_position(prefix) for _, prefix, *_ in lists]
    page, runs = (
        paginate_keyset(stmt, keyset, position or Position(), size, total=count, prefix=prefix)
        for position, (_, prefix, stmt, keyset, size, count) in zip(positions, lists, strict=True)
    )
    bad_cursor = None in positions
    now = _now()
    weeks = weekly_runs(guard, now)
    start, end = _escape_span()
    escaped = escape_counts(current_user, start, end, guard_id=guard.id)
    return render_template(
        "guards/detail.html",
        guard=guard,
        page=page,
        items=linked_action_items(guard, [incident.id for incident in page.items]),
        facts=guard_facts(guard, now),
        runs=runs,
        weeks=weeks,
        bars=bars(weeks),
        escapes=escapes_of_guard(guard, current_user, start, end),
        escaped=escaped.get(guard.id, EscapeCount()),
        escape_span=(start, end) if start else None,
        bad_cursor=bad_cursor,
        page_query=_other_args(guard, ""),
        runs_query=_other_args(guard, "runs_"),
    ), (400 if bad_cursor else 200)


def _other_args(guard: GuardCheck, prefix: str) -> dict[str, object]:
    """What a link to another page of one list keeps: the guard and the other list's page."""
    kept = {k: v for k, v in request.args.items() if k not in position_args(prefix)}
    return kept | {"guard_id": guard.id}


def _position(prefix: str) -> Position | None:
    """The position a guard page's link asks of one of its lists; None for a bad cursor
    (the list then starts from the newest, and the page says why)."""
    try:
        return read_position(request.args, prefix)
    except CursorError:
        return None


def _escape_span() -> tuple[date | None, date | None]:
    """The span of start days a report's link narrows the escapes to (`escaped_from`,
    `escaped_to`, both or neither), or 400 saying what is wrong."""
    first, last = request.args.get("escaped_from"), request.args.get("escaped_to")
    if first is None and last is None:
        return None, None
    try:
        start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
    except ValueError:
        abort(400, description="Give escaped_from and escaped_to as dates, YYYY-MM-DD.")
    if start > end:
        abort(400, description="escaped_from must not be after escaped_to.")
    return start, end


@bp.route("/<int:guard_id>/runs/new", methods=["GET", "POST"])
@requires("record_guard_run")
def record(guard_id: int) -> ResponseReturnValue:
    """Record a run of the guard by hand (a checklist gone through, a review rule applied)."""
    guard = get_or_404(GuardCheck, guard_id)
    form = GuardRunForm()
    if form.validate_on_submit():
        try:
            commit_change(
                lambda: record_run(
                    guard.id,
                    status=form.status.data,
                    ran_at=form.ran_at.data,
                    url=form.url.data,
                    details=form.details.data,
                    reporter=current_user,
                )
            )
        except NotFoundError:
            abort(404)
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Run recorded.")
            return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/run_form.html", form=form, guard=guard)


@bp.route("/at-risk")
def at_risk() -> ResponseReturnValue:
    """Failing and stale guard checks with the postmortems and action items they protect."""
    number = request.args.get("page", 1, type=int)
    return render_template("guards/at_risk.html", page=at_risk_guards(_now(), current_user, number))


@bp.route("/effectiveness")
def effectiveness_table() -> ResponseReturnValue:
    """Per guard: postmortems protected, recurrences escaped, last pass, pass rate."""
    return render_template(
        "guards/effectiveness.html",
        rows=effectiveness(_now(), current_user),
        days=PASS_RATE_DAYS,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("add_guard")
def create() -> ResponseReturnValue:
    """Add a guard check."""
    form = GuardCheckForm()
    if form.validate_on_submit():
        try:
            guard = commit_change(lambda: create_guard(form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Guard check “{guard.name}” added.")
            return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=None)


@bp.route("/<int:guard_id>/edit", methods=["GET", "POST"])
@requires("edit_guard")
def edit(guard_id: int) -> ResponseReturnValue:
    """Edit a guard check."""
    guard = get_or_404(GuardCheck, guard_id)
    form = GuardCheckForm(guard=guard)
    if form.validate_on_submit():
        try:
            commit_change(lambda: update_guard(guard, form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Guard check saved.")
            return redirect(url_for("guards.detail", guard_id=guard.id))
    return render_template("guards/form.html", form=form, guard=guard)
