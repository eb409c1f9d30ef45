"""A freshly started gunicorn worker's first trend report (ten years, the default range) and
quarterly JSON at one size (issue 18), for this code and, beside it, another checkout.

For each code (`--code DIR`, repeatable; this worktree by default) it copies the generated
SQLite database (bench/generate.py), removes any stored report pieces, and times, each on a
newly started one-worker gunicorn, the first request of:

1. "nothing stored": the first worker ever (every month computed);
2. "fresh worker": a worker started after another one computed the same report;
3. "after a rename": a factor renamed through the admin form, then a fresh worker's report,
   and the next report on a worker that had it already.

Absolute times and load average (`uptime`) are printed; compare codes measured in one run.

    PYTHONPATH=$PWD .venv/bin/python -m bench.first_report 100000 --code ../before --code .
"""

import argparse
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.generate import ADMIN_EMAIL, ROOT, cached_database
from bench.serve import HOST, fetch, free_port, sign_in

TODAY = date.today()
TEN_YEARS = f"/reports/trends?from={TODAY.year - 9}-01-01&to={TODAY}"
DEFAULT = "/reports/trends"
QUARTER = (TODAY.month - 1) // 3 + 1
PREVIOUS = f"{TODAY.year}Q{QUARTER - 1}" if QUARTER > 1 else f"{TODAY.year - 1}Q4"
QUARTERLY = f"/reports/quarterly/{PREVIOUS}.json"
REPORTS = {"ten years": TEN_YEARS, "default": DEFAULT, "quarterly JSON": QUARTERLY}


class Worker:
    """gunicorn with one sync worker serving `code` on `url`."""

    def __init__(self, code: Path, url: str, log: Path) -> None:
        self.port = free_port()
        env = os.environ | {
            "POSTMORTEMS_DATABASE_URL": url,
            "POSTMORTEMS_SECRET_KEY": secrets.token_hex(32),
            "PYTHONPATH": str(code),
        }
        options = f"--workers 1 --bind {HOST}:{self.port} --timeout 120 --error-logfile {log}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options.split(), "app:create_app()"],
            cwd=code,
            env=env,
        )
        began = time.monotonic()
        while time.monotonic() - began < 60:
            try:
                if fetch(self.port, "/healthz", {}, timeout=5).status == 200:
                    break
            except Exception:  # noqa: BLE001 - not serving yet
                time.sleep(0.1)
        self.cookies = sign_in(self.port, ADMIN_EMAIL)

    def seconds(self, path: str) -> float:
        answer = fetch(self.port, path, self.cookies, timeout=120)
        if answer.status != 200:
            raise RuntimeError(f"{path} answered {answer.status}")
        return answer.seconds

    def rename_factor(self, factor_id: int, name: str) -> None:
        page = fetch(self.port, f"/taxonomy/factors/{factor_id}/edit", self.cookies)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert token is not None
        category = re.search(
            r'<option[^>]*selected[^>]*value="([A-Z_]+)"|<option[^>]*value="([A-Z_]+)"[^>]*selected',
            page.text,
        )
        assert category is not None
        form = [("csrf_token", token.group(1)), ("name", name), ("description", "")]
        form.append(("category", category.group(1) or category.group(2)))
        answer = fetch(self.port, f"/taxonomy/factors/{factor_id}/edit", self.cookies, form)
        if answer.status != 302:
            raise RuntimeError(f"renaming answered {answer.status}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.split("load")[-1]


def measure(code: Path, database: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-first-") as folder:
        copy = Path(folder) / "postmortems.db"
        shutil.copyfile(database, copy)
        with sqlite3.connect(copy) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "figure_piece" in tables:
                conn.execute("DELETE FROM figure_piece")
            factor_id = conn.execute("SELECT min(id) FROM contributing_factor").fetchone()[0]
        url, log = f"sqlite:///{copy}", Path(folder) / "gunicorn.log"
        print(f"code {code}")
        for state in ("nothing stored", "fresh worker"):
            for name, path in REPORTS.items():
                if state == "nothing stored" and name != "ten years":
                    # each report's own first worker: throw away what the last one stored
                    with sqlite3.connect(copy) as conn:
                        if "figure_piece" in tables:
                            conn.execute("DELETE FROM figure_piece")
                worker = Worker(code, url, log)
                ms = worker.seconds(path) * 1000
                worker.stop()
                print(f"  {state:15} {name:15} {ms:8.0f} ms   load{load()}", end="")
        warm = Worker(code, url, log)
        warm.seconds(TEN_YEARS)
        warm.rename_factor(factor_id, f"Renamed {secrets.token_hex(3)}")
        ms = warm.seconds(TEN_YEARS) * 1000
        warm.stop()
        print(f"  {'after a rename':15} {'ten years, warm':15} {ms:8.0f} ms   load{load()}", end="")
        fresh = Worker(code, url, log)
        ms = fresh.seconds(TEN_YEARS) * 1000
        fresh.stop()
        print(f"  {'after a rename':15} {'ten years, new':15} {ms:8.0f} ms   load{load()}", end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=100_000)
    parser.add_argument("--code", type=Path, action="append")
    args = parser.parse_args()
    database = cached_database(args.size)
    for code in args.code or [ROOT]:
        measure(code.resolve(), database)


if __name__ == "__main__":
    main()
