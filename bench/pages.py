"""Page timings against a bare Flask route in the same app and run (`make bench`).

In-process through Flask's test client, on a SQLite file with the demo data and synthetic
postmortems, signed in as an admin. Prints the median of each page, its ratio to the bare
route, and the machine's core count. Shared machines are noisy: read the ratios.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from alembic import command

from models import IncidentStatus, Role, User
from postmortems import create_app
from postmortems.cli import alembic_config
from postmortems.db import session
from postmortems.demo import load_demo_data
from postmortems.incidents.service import create_incident

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "500"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "200"))


def build_app(path: str):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    app.add_url_rule("/bench/bare", "bench_bare", lambda: "ok")
    with app.app_context():
        load_demo_data()
        start = datetime(2021, 1, 1, tzinfo=UTC)
        for n in range(INCIDENTS):
            create_incident(
                title=f"Synthetic incident {n}",
                started_at=start + timedelta(hours=n),
                status=IncidentStatus.PUBLISHED,
            )
        admin = User(email="bench@example.com", role=Role.ADMIN, password_hash="!")
        session.add(admin)
        session.commit()
        admin_id = admin.id
    return app, admin_id


def median_ms(client, url: str) -> float:  # type: ignore[no-untyped-def]
    for _ in range(10):  # warm up caches and the template loader
        client.get(url)
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, admin_id = build_app(os.path.join(folder, "bench.db"))
        client = app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = str(admin_id)
        pages = {
            "bare Flask route (baseline)": "/bench/bare",
            "postmortem list, page 1": "/incidents/",
            "postmortem list, filtered by stage": "/incidents/?stage=2",
            "postmortem page (demo PM-2020-001)": "/incidents/1",
            "history of PM-2020-001": "/incidents/1/history",
            "guard checks": "/guards/",
        }
        results = {name: median_ms(client, url) for name, url in pages.items()}
        app.extensions["db_engine"].dispose()
    baseline = results["bare Flask route (baseline)"]
    print(
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {INCIDENTS + 3} postmortems,"
        f" median of {REPEATS} requests each (in-process test client)"
    )
    for name, ms in results.items():
        print(f"  {name:40} {ms:8.2f} ms  {ms / baseline:7.1f}× baseline")


if __name__ == "__main__":
    main()
