"""The export page for admins: the same files as `flask export`, downloaded as one zip."""

import io
import zipfile
from datetime import UTC, datetime

from flask import Blueprint, render_template, send_file
from flask.typing import ResponseReturnValue

from postmortems.audit.service import record_event
from postmortems.db import commit_change
from postmortems.policy import requires
from postmortems.transfer.export_files import export_files

bp = Blueprint("transfer", __name__, url_prefix="/transfer")
# A fixed time inside the zip, so that the same data always gives the same archive.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@bp.route("/")
@requires("export_data")
def index() -> ResponseReturnValue:
    """What the export holds, how to import it, and the download."""
    return render_template("transfer/index.html")


@bp.route("/export.zip", methods=["POST"])
@requires("export_data")
def download() -> ResponseReturnValue:
    """Every postmortem and the rows they rest on, as the files of `flask export`, zipped.
    A POST: the download is recorded in the audit log (it holds every account's email)."""
    files = export_files()
    commit_change(lambda: record_event("exported all data", "export", None, f"{len(files)} files"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(f"postmortems-export/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    buffer.seek(0)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return send_file(
        buffer,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"postmortems-export-{stamp}.zip",
        max_age=0,
    )
