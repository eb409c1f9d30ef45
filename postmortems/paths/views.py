"""Reading path pages: the list, one path with its reader's progress, curating forms, who is
reading (admins), and the path as one booklet (HTML, Markdown, PDF)."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from models import ReadingPath, ReadingPathItem
from postmortems.db import commit_change, get_or_404, session
from postmortems.domain import DomainError
from postmortems.paths import booklet
from postmortems.paths.forms import ItemForm, NoteForm, PathForm
from postmortems.paths.service import (
    Progress,
    add_item,
    count_items,
    create_path,
    delete_path,
    get_visible_item,
    is_meant_for,
    is_new_user,
    list_paths,
    mark_read,
    mark_unread,
    move_item,
    progress_by_path,
    read_item_ids,
    readers_of,
    remove_item,
    update_item,
    update_path,
    visible_items,
)
from postmortems.policy import can, requires

bp = Blueprint("paths", __name__, url_prefix="/paths")


@bp.route("/")
def index() -> ResponseReturnValue:
    """Every reading path, with the reader's progress; those meant for them marked."""
    paths = list(session.scalars(list_paths()))
    new = is_new_user(current_user)
    return render_template(
        "paths/index.html",
        paths=paths,
        progress=progress_by_path(current_user, [p.id for p in paths]),
        meant={p.id for p in paths if is_meant_for(p, current_user, new=new)},
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("curate_paths")
def create() -> ResponseReturnValue:
    """Add a reading path; its postmortems are added on its page."""
    form = PathForm()
    if form.validate_on_submit():
        try:
            path = commit_change(lambda: create_path(form.values(), by=current_user))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"Reading path “{path.title}” added. Now add its postmortems.")
            return redirect(url_for("paths.detail", path_id=path.id))
    return render_template("paths/form.html", form=form, path=None)


@bp.route("/<int:path_id>")
def detail(path_id: int) -> ResponseReturnValue:
    """A path's postmortems in order, with why to read each and which the reader has read."""
    path = get_or_404(ReadingPath, path_id)
    items = visible_items(path, current_user)
    read = read_item_ids(current_user, items)
    return render_template(
        "paths/detail.html",
        path=path,
        items=items,
        read=read,
        progress=Progress(read=len(read), total=len(items)),
        item_form=ItemForm(formdata=None),
        hidden=count_items(path) - len(items) if can(current_user, "curate_paths") else 0,
    )


@bp.route("/<int:path_id>/edit", methods=["GET", "POST"])
@requires("curate_paths")
def edit(path_id: int) -> ResponseReturnValue:
    """Change a path's title, description or audience."""
    path = get_or_404(ReadingPath, path_id)
    form = PathForm(path=path)
    if form.validate_on_submit():
        try:
            commit_change(lambda: update_path(path, form.values()))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Reading path saved.")
            return redirect(url_for("paths.detail", path_id=path.id))
    return render_template("paths/form.html", form=form, path=path)


@bp.route("/<int:path_id>/delete", methods=["GET", "POST"])
@requires("curate_paths")
def delete(path_id: int) -> ResponseReturnValue:
    """Ask, then delete a path (its postmortems stay)."""
    path = get_or_404(ReadingPath, path_id)
    form = FlaskForm()
    if form.validate_on_submit():
        title = path.title
        commit_change(lambda: delete_path(path))
        flash(f"Reading path “{title}” deleted.")
        return redirect(url_for("paths.index"))
    return render_template("paths/delete.html", form=form, path=path)


@bp.route("/<int:path_id>/readers")
@requires("see_path_readers")
def readers(path_id: int) -> ResponseReturnValue:
    """Who has started the path and who has finished it."""
    path = get_or_404(ReadingPath, path_id)
    return render_template("paths/readers.html", path=path, readers=readers_of(path))


@bp.route("/<int:path_id>/items/new", methods=["GET", "POST"])
@requires("curate_paths")
def create_item(path_id: int) -> ResponseReturnValue:
    """Put a postmortem, by its key, at the end of the path."""
    path = get_or_404(ReadingPath, path_id)
    form = ItemForm()
    if form.validate_on_submit():
        key, note = form.key.data or "", form.note_md.data or ""
        try:
            item = commit_change(lambda: add_item(path, key, note, curator=current_user))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash(f"{item.incident.key} added to the path.")
            return redirect(url_for("paths.detail", path_id=path.id, _anchor=f"item-{item.id}"))
    return render_template("paths/item_form.html", form=form, path=path, item=None)


def _item_or_404(path_id: int, item_id: int) -> tuple[ReadingPath, ReadingPathItem]:
    """The path and one of its items whose postmortem the current user may see."""
    path = get_or_404(ReadingPath, path_id)
    item = get_visible_item(path, item_id, current_user)
    if item is None:
        abort(404)
    return path, item


@bp.route("/<int:path_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
@requires("curate_paths")
def edit_item(path_id: int, item_id: int) -> ResponseReturnValue:
    """Change the note on why to read an item."""
    path, item = _item_or_404(path_id, item_id)
    form = NoteForm(obj=item)
    if form.validate_on_submit():
        note = form.note_md.data or ""
        try:
            commit_change(lambda: update_item(item, note))
        except DomainError as exc:
            form.show_errors(exc)
        else:
            flash("Note saved.")
            return redirect(url_for("paths.detail", path_id=path.id, _anchor=f"item-{item.id}"))
    return render_template("paths/item_form.html", form=form, path=path, item=item)


@bp.route("/<int:path_id>/items/<int:item_id>/move/<any(up, down):direction>", methods=["POST"])
@requires("curate_paths")
def move(path_id: int, item_id: int, direction: str) -> ResponseReturnValue:
    """Move an item one place up or down."""
    path, item = _item_or_404(path_id, item_id)
    if FlaskForm().validate_on_submit():
        try:
            commit_change(lambda: move_item(item, direction))
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("paths.detail", path_id=path.id, _anchor=f"item-{item.id}"))


@bp.route("/<int:path_id>/items/<int:item_id>/delete", methods=["GET", "POST"])
@requires("curate_paths")
def delete_item(path_id: int, item_id: int) -> ResponseReturnValue:
    """Ask, then take a postmortem off the path."""
    path, item = _item_or_404(path_id, item_id)
    form = FlaskForm()
    if form.validate_on_submit():
        key = item.incident.key
        commit_change(lambda: remove_item(item))
        flash(f"{key} removed from the path.")
        return redirect(url_for("paths.detail", path_id=path.id))
    return render_template("paths/item_delete.html", form=form, path=path, item=item)


@bp.route("/<int:path_id>/items/<int:item_id>/<any(read, unread):mark>", methods=["POST"])
def mark(path_id: int, item_id: int, mark: str) -> ResponseReturnValue:
    """Mark an item read or unread; in place with htmx, or back to the path without it."""
    path, item = _item_or_404(path_id, item_id)
    if FlaskForm().validate_on_submit():
        change = mark_read if mark == "read" else mark_unread
        try:
            commit_change(lambda: change(current_user, item))
        except DomainError as exc:
            flash(exc.message, "error")
    if request.headers.get("HX-Request"):
        items = visible_items(path, current_user)
        read = read_item_ids(current_user, items)
        return render_template(
            "paths/_marked.html",
            path=path,
            item=item,
            number=[i.id for i in items].index(item.id) + 1,
            count=len(items),
            read=read,
            progress=Progress(read=len(read), total=len(items)),
        )
    return redirect(url_for("paths.detail", path_id=path.id, _anchor=f"item-{item.id}"))


@bp.route("/<int:path_id>/booklet.<any(html, md, pdf):kind>")
def booklet_file(path_id: int, kind: str) -> ResponseReturnValue:
    """The path as one booklet: every postmortem the reader may see, in order, with its note."""
    path = get_or_404(ReadingPath, path_id)
    items = visible_items(path, current_user)
    name = booklet.file_name(path, kind)
    if kind == "md":
        return Response(
            booklet.as_markdown(path, items, viewer=current_user),
            mimetype="text/markdown",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if kind == "pdf":
        return Response(
            booklet.as_pdf(path, items, viewer=current_user, base_url=request.host_url),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    html, policy = booklet.as_html(path, items, viewer=current_user, base_url=request.host_url)
    return Response(
        html,
        mimetype="text/html",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            # Its own stylesheet is inline (the file stands alone once saved): allowed by hash.
            "Content-Security-Policy": policy,
        },
    )
