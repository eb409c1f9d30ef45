"""Pages to list, read, file, edit, review and look back through postmortems and their parts."""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
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
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import load_only
from wtforms import TextAreaField

from models import (
    ActionItem,
    ImpactEstimate,
    Incident,
    IncidentFactor,
    Lesson,
    ReviewAction,
    TimelineEvent,
)
from postmortems.auth.access import (
    can_read_now,
    get_editable_incident_or_404,
    get_readable_incident_or_404,
    visible_incidents,
)
from postmortems.cache import cached
from postmortems.db import CONFLICT_MESSAGE, commit_change, get_or_404, session
from postmortems.domain import ConflictError, DomainError
from postmortems.forms import Form
from postmortems.guards.risk import at_risk_action_items
from postmortems.incidents import forms, parts, workflow
from postmortems.incidents.article import render_article
from postmortems.incidents.filing import check_postmortem, file_postmortem, save_postmortem
from postmortems.incidents.order import ORDER_INDEX_FROM_ROWS, incident_keyset
from postmortems.incidents.service import (
    count_incidents,
    delete_incident,
    list_incidents,
)
from postmortems.incidents.sheet import ROW_KINDS, PostmortemForm
from postmortems.markdown import markdown_problem, render_markdown
from postmortems.pagination import (
    CursorError,
    paginate_keyset,
    position_args,
    position_of_page,
    position_query,
    read_position,
)
from postmortems.policy import can, requires

bp = Blueprint("incidents", __name__, url_prefix="/incidents")


@bp.context_processor
def _form_context() -> dict[str, object]:
    """The kinds of part rows the postmortem's form offers, and where its previews come from."""
    return {
        "row_kinds": ROW_KINDS,
        "preview_url": url_for("incidents.preview"),
        "offers_submit": _offers_submit,
    }


class ReviewForm(Form):
    """The comment that goes with a workflow step."""

    # No length limit: a refused comment could not be shown again on the page it came from,
    # and MAX_CONTENT_LENGTH bounds the request anyway.
    text = TextAreaField("Comment")


# The columns the list shows (templates/incidents/index.html).
LIST_COLUMNS = (
    Incident.key,
    Incident.title,
    Incident.summary,
    Incident.severity,
    Incident.status,
    Incident.team_id,
    Incident.started_at,
    Incident.is_near_miss,
    Incident.is_restricted,
    Incident.source_collection,
)


@bp.route("/")
def index() -> ResponseReturnValue:
    """List the postmortems the user may see, filtered and paginated."""
    form = forms.FilterForm()
    if not form.validate():
        filters_html = Markup(render_template("incidents/_filters.html", form=form))
        return render_template("incidents/index.html", filters_html=filters_html, page=None), 400
    filters = form.filters()
    per_page = current_app.config["INCIDENTS_PER_PAGE"]
    total = count_incidents(current_user, filters)
    stmt = list_incidents(current_user, filters, many=total >= ORDER_INDEX_FROM_ROWS).options(
        load_only(*LIST_COLUMNS)  # not the Markdown and HTML sections the list never shows
    )
    keyset = incident_keyset(external=filters.external)
    query: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("page", *position_args()) and v
    }
    if form.page.data is not None and form.page.data > 1:
        # An old numbered link: found once by OFFSET, then the page's own link by key.
        position = position_of_page(stmt, keyset, form.page.data, per_page)
        return redirect(url_for("incidents.index", **(query | position_query(position))))
    page, status = None, 400
    with suppress(CursorError):
        page = paginate_keyset(stmt, keyset, read_position(request.args), per_page, total=total)
        status = 200
    # The filters' hundred-odd options cost more to render than the page's queries: the HTML
    # is kept per viewer and filter values until the data changes.
    filters_key = ("list_filters_html", tuple(sorted(query.items())))
    filters_html = cached(
        filters_key,
        lambda: Markup(render_template("incidents/_filters.html", form=form)),
        viewer=current_user,
    )
    return render_template(
        "incidents/index.html",
        filters_html=filters_html,
        page=page,
        query=query,
        bad_cursor=page is None,
    ), status


@dataclass(frozen=True)
class DetailHead:
    """What the postmortem's page needs of the postmortem besides its article, as one viewer
    may act on it: kept per viewer until the data changes, so a kept page loads no row."""

    id: int
    key: str
    title: str
    editable: bool
    deletable: bool
    steps: tuple[tuple[str, str], ...]


def _detail_head(incident_id: int) -> DetailHead | None:
    """The page's head for the current user; None when they may not see the postmortem."""
    incident = session.scalar(
        select(Incident).where(Incident.id == incident_id, visible_incidents(current_user))
    )
    if incident is None:
        return None
    return DetailHead(
        id=incident.id,
        key=incident.key,
        title=incident.title,
        editable=can(current_user, "edit", incident),
        deletable=can(current_user, "delete", incident),
        steps=tuple(
            (step, label)
            for step, label in workflow.available_steps(incident)
            if can(current_user, step, incident)
        ),
    )


@bp.route("/<int:incident_id>")
def detail(incident_id: int) -> ResponseReturnValue:
    """Read one postmortem."""
    return _detail_page(incident_id)


def _detail_page(
    incident_id: int, review_form: ReviewForm | None = None, review_errors: Sequence[str] = ()
) -> ResponseReturnValue:
    """The postmortem's page; after a refused review step, with the comment as typed and
    what was wrong beside it (400)."""
    # Whether the viewer may see it, and what they may do with it, follow from the data and
    # who they are: kept per viewer and data version (a hidden one is kept as None: 404).
    head = cached(
        ("incident_head", incident_id), lambda: _detail_head(incident_id), viewer=current_user
    )
    if head is None:
        abort(404)
    # The postmortem itself holds no form token; what it shows depends on the reader (what
    # they may change, which postmortems it names they may see), so it is kept per reader
    # and data version.
    # Done action items whose guard fails or went stale: that changes with time as well as
    # with the data, so it is asked for on every view (from kept states) and is part of the
    # kept article's key.
    at_risk = at_risk_action_items(incident_id, datetime.now(UTC))
    article = cached(
        ("incident_article", incident_id, head.editable, head.deletable, at_risk),
        lambda: render_article(
            incident_id,
            viewer=current_user,
            editable=head.editable,
            deletable=head.deletable,
            at_risk=at_risk,
        ),
        viewer=current_user,
    )
    if review_form is None and head.steps:
        review_form = ReviewForm()
    return render_template(
        "incidents/detail.html",
        incident=head,
        article=article,
        steps=head.steps,
        review_form=review_form,
        review_errors=review_errors,
    ), 400 if review_errors else 200


# The flash of a postmortem saved from its form: how the browser's kept copy of what was typed
# (static/js/draft.js) learns that the save went through, and only then drops it.
SAVED = "saved"


@bp.route("/new", methods=["GET", "POST"])
@requires("file_incident")
def create() -> ResponseReturnValue:
    """File a new postmortem (as a draft), with as many of its parts as the author has."""
    form = PostmortemForm(viewer=current_user)
    if (previews := _shows_a_preview(form)) is not None:
        return render_template("incidents/form.html", form=form, incident=None, previews=previews)
    if _adds_a_row(form):
        return render_template("incidents/form.html", form=form, incident=None)
    if form.validate_on_submit():
        submit_too = _submits_too()

        def file() -> Incident:
            incident = file_postmortem(form.values(), form.new_parts(), author=current_user)
            if submit_too:
                workflow.submit_for_review(incident, current_user)
            return incident

        try:
            incident = commit_change(file)
        except DomainError as exc:
            form.show_errors(exc)
        else:
            done = "filed and submitted for review" if submit_too else "filed as a draft"
            flash(f"Postmortem {incident.key} {done}.", SAVED)
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    elif form.is_submitted():
        form.check_the_rest(
            lambda: check_postmortem(form.values(), form.new_parts(), viewer=current_user)
        )
    return render_template("incidents/form.html", form=form, incident=None)


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
def edit(incident_id: int) -> ResponseReturnValue:
    """Edit a postmortem's fields and add parts; a save based on an outdated copy is refused."""
    incident = get_editable_incident_or_404(incident_id)
    form = PostmortemForm(viewer=current_user, incident=incident)
    if (previews := _shows_a_preview(form)) is not None:
        return render_template(
            "incidents/form.html", form=form, incident=incident, previews=previews
        )
    if _adds_a_row(form):
        return render_template("incidents/form.html", form=form, incident=incident)
    if form.validate_on_submit():
        version = form.expected_version()
        submit_too = _submits_too() and _offers_submit(incident)

        def save() -> None:
            save_postmortem(
                incident,
                form.values(),
                form.new_parts(),
                editor=current_user,
                expected_version=version,
                part_edits=form.part_edits(incident),
            )
            if submit_too:
                workflow.submit_for_review(incident, current_user)

        try:
            commit_change(save)
        except ConflictError:
            return _edit_conflict(form, get_or_404(Incident, incident_id))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(
                "Postmortem saved and submitted for review." if submit_too else "Postmortem saved.",
                SAVED,
            )
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    elif form.is_submitted():
        form.check_the_rest(
            lambda: check_postmortem(
                form.values(),
                form.new_parts(),
                viewer=current_user,
                incident=incident,
                part_edits=form.part_edits(incident),
            )
        )
    return render_template("incidents/form.html", form=form, incident=incident)


@bp.route("/preview", methods=["POST"])
def preview() -> ResponseReturnValue:
    """The Markdown of one field (named by `field`) as the page will show it: the same
    renderer and sanitiser. htmx asks for it in place; forms without JavaScript reload."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    name = request.form.get("field", "")
    text = request.form.get(name)
    if (problem := markdown_problem(text)) is not None:
        return render_template("incidents/_preview.html", problem=problem)
    return render_template("incidents/_preview.html", html=render_markdown(text))


def _shows_a_preview(form: PostmortemForm) -> dict[str, Markup] | None:
    """ "Preview" was pressed without JavaScript: the named field's Markdown, rendered."""
    name = request.form.get("preview") if request.method == "POST" else None
    if not name or name not in request.form:
        return None
    text = request.form.get(name)
    if (problem := markdown_problem(text)) is not None:
        return {name: Markup('<p class="error" role="alert">%s</p>') % problem}
    return {name: render_markdown(text)}


def _adds_a_row(form: PostmortemForm) -> bool:
    """ "Add another …" was pressed: one more empty row of that kind, nothing saved yet."""
    kind = request.form.get("add_row") if request.method == "POST" else None
    if kind not in ROW_KINDS:
        return False
    form.add_row(kind)
    return True


def _submits_too() -> bool:
    """ "File and submit for review" (or "Save and …") was pressed: one step when done."""
    return request.form.get("then") == "submit"


def _offers_submit(incident: Incident | None) -> bool:
    """The form offers to submit as well: a new postmortem, or a draft its editor may submit."""
    if incident is None:
        return True
    allowed = dict(workflow.available_steps(incident))
    return "submit" in allowed and can(current_user, "submit", incident)


def _edit_conflict(form: forms.IncidentForm, incident: Incident) -> ResponseReturnValue:
    """Show the saved version beside what the user typed; keep the typed text in the form."""
    session.refresh(incident)
    differences = form.differences(form.saved_version(incident))
    form.version.data = str(incident.version)
    return render_template(
        "incidents/form.html", form=form, incident=incident, conflict=differences
    ), 409


@bp.route("/<int:incident_id>/delete", methods=["GET", "POST"])
def delete(incident_id: int) -> ResponseReturnValue:
    """Ask, then delete a postmortem with all its parts (its author while a draft, or admins)."""
    incident = get_readable_incident_or_404(incident_id)
    if not can(current_user, "delete", incident):
        abort(403)
    form = FlaskForm()
    if form.validate_on_submit():
        key = incident.key
        commit_change(lambda: delete_incident(incident))
        flash(f"Postmortem {key} deleted.")
        return redirect(url_for("incidents.index"))
    return render_template("incidents/delete.html", form=form, incident=incident)


# The review workflow: each step is a POST from the postmortem's page.

WORKFLOW_STEPS = {
    "submit": (workflow.submit_for_review, ReviewAction.SUBMITTED),
    "publish": (workflow.publish, ReviewAction.PUBLISHED),
    "send-back": (workflow.send_back, ReviewAction.SENT_BACK),
    "archive": (workflow.archive, ReviewAction.ARCHIVED),
}


@bp.route("/<int:incident_id>/<any(submit, publish, 'send-back', archive):step>", methods=["POST"])
def review(incident_id: int, step: str) -> ResponseReturnValue:
    """Move the postmortem along the review workflow, with a comment. A refused step shows
    the page again with the comment kept and the reason beside it."""
    incident = get_readable_incident_or_404(incident_id)
    if not can(current_user, step, incident):
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    if step == "archive" and request.form.get("confirm") != "yes":
        # Archiving takes a postmortem out of everyday reading: ask first, keep the comment.
        return render_template("incidents/archive.html", form=form, incident=incident)
    action, review_action = WORKFLOW_STEPS[step]
    try:
        commit_change(lambda: action(incident, current_user, form.text.data or ""))
    except workflow.WorkflowError as exc:
        return _detail_page(incident_id, form, [str(exc), *exc.problems])
    except DomainError as exc:
        return _detail_page(incident_id, form, [str(exc)])
    flash(f"Postmortem {incident.key} {workflow.DONE[review_action]}.")
    if not can_read_now(current_user, incident):
        # Sent back, it is a draft again, which a reviewer who is not named on it cannot
        # open: their queue, which lists it under what they sent back.
        return redirect(url_for("home.index", _anchor="sent-back-by-me"))
    return redirect(url_for("incidents.detail", incident_id=incident.id, _anchor="review"))


# History: every saved change is a revision.


# Parts: timeline events, factors, impacts, lessons and action items share three views.


@dataclass(frozen=True)
class Part:
    """One kind of incident part, edited through the same three views."""

    form_class: type[forms.PartForm]
    model: type[Any]
    label: str
    anchor: str


PARTS = {
    "timeline": Part(forms.TimelineEventForm, TimelineEvent, "timeline event", "timeline"),
    "factors": Part(forms.IncidentFactorForm, IncidentFactor, "contributing factor", "factors"),
    "impacts": Part(forms.ImpactEstimateForm, ImpactEstimate, "impact estimate", "impact"),
    "lessons": Part(forms.LessonForm, Lesson, "lesson", "lessons"),
    "actions": Part(forms.ActionItemForm, ActionItem, "action item", "actions"),
}
PART_NAMES = "any(" + ", ".join(PARTS) + ")"


@bp.route(f"/<int:incident_id>/<{PART_NAMES}:part_name>/new", methods=["GET", "POST"])
def create_part(incident_id: int, part_name: str) -> ResponseReturnValue:
    """Add a timeline event, factor, impact, lesson or action item."""
    incident = get_editable_incident_or_404(incident_id)
    return _part_form(incident, PARTS[part_name], None)


@bp.route(
    f"/<int:incident_id>/<{PART_NAMES}:part_name>/<int:part_id>/edit", methods=["GET", "POST"]
)
def edit_part(incident_id: int, part_name: str, part_id: int) -> ResponseReturnValue:
    """Edit one part of a postmortem."""
    incident = get_editable_incident_or_404(incident_id)
    part = PARTS[part_name]
    return _part_form(incident, part, _get_part_or_404(incident, part, part_id))


@bp.route(
    f"/<int:incident_id>/<{PART_NAMES}:part_name>/<int:part_id>/delete", methods=["GET", "POST"]
)
def delete_part(incident_id: int, part_name: str, part_id: int) -> ResponseReturnValue:
    """Ask, then remove one part of a postmortem."""
    incident = get_editable_incident_or_404(incident_id)
    part = PARTS[part_name]
    obj = _get_part_or_404(incident, part, part_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template(
            "incidents/part_delete.html", form=form, incident=incident, part=part
        )
    try:
        commit_change(lambda: parts.delete_part(incident, obj))
    except DomainError as exc:
        flash(str(exc), "error")
    else:
        flash(f"The {part.label} was removed.")
    return redirect(url_for("incidents.detail", incident_id=incident.id, _anchor=part.anchor))


def _part_form(incident: Incident, part: Part, obj: Any) -> ResponseReturnValue:
    form = part.form_class(incident=incident, part=obj)
    if form.validate_on_submit():
        try:
            commit_change(
                lambda: parts.save_part(
                    incident, form.values(), obj, expected_version=form.expected_version()
                )
            )
        except ConflictError:
            if obj is None:  # a new part lost a race on a unique value: show the form again
                form.form_errors.append(CONFLICT_MESSAGE)
            else:
                return _part_conflict(form, incident, part, get_or_404(part.model, obj.id))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"The {part.label} was saved.")
            return redirect(
                url_for("incidents.detail", incident_id=incident.id, _anchor=part.anchor)
            )
    return render_template(
        "incidents/part_form.html", form=form, incident=incident, part=part, obj=obj
    )


def _part_conflict(
    form: forms.PartForm, incident: Incident, part: Part, obj: Any
) -> ResponseReturnValue:
    """Someone saved this part since the form was opened: show both, keep the typed text."""
    session.refresh(obj)
    differences = form.differences(form.saved_version(obj))
    form.version.data = str(obj.version)
    return render_template(
        "incidents/part_form.html",
        form=form,
        incident=incident,
        part=part,
        obj=obj,
        conflict=differences,
    ), 409


def _get_part_or_404(incident: Incident, part: Part, part_id: int) -> Any:
    obj = get_or_404(part.model, part_id)
    if obj.incident_id != incident.id:
        abort(404)
    return obj


# The history pages register on this blueprint (imported last: they need `bp`).
from postmortems.incidents import history_views  # noqa: E402, F401
