"""Issue 18's outside method (`make bench --method outside`): the pages measured the way the
outside run measured them, so that its figures and ours can be set side by side.

Gunicorn with 2 sync workers on SQLite, `ab -c 2`, each page's requests/s divided by the mean
of `/healthz` measured right before and right after it, on the outside data shape
(`python -m bench.generate N --shape outside`). Every page is measured in two rounds, each in
its own shuffled order (seeded by BENCH_SEED, so a run can be repeated); the verdict reads the
median of the rounds against issue 18's targets. Pages without a role in their name are
measured as the admin.
"""

import os
import random
import statistics
from dataclasses import dataclass
from pathlib import Path

from bench.generate import ADMIN_EMAIL, READER_EMAIL, SEED, cached_database, landmarks
from bench.page_list import Page, deep_pages
from bench.serve import Bench, Failed, Result, serving, shout, sign_in

CLIENTS = 2
ROUNDS = 2
ROLES = {"admin": ADMIN_EMAIL, "reader": READER_EMAIL}

# Issue 18: every page at least a tenth of /healthz, the postmortem page 0.4, the most-linked
# guard's page 0.2, and the list's page 500 no slower than page 1 by more than 1.5x.
PAGE_TARGET = 0.10
POSTMORTEM_TARGET = 0.4
GUARD_TARGET = 0.2
DEEP_SLOWDOWN = 1.5
PAGE_ONE = "list, page 1"


@dataclass(frozen=True)
class Row:
    """One page as one role: its result in every round."""

    page: Page
    role: str
    results: list[Result]

    @property
    def ratios(self) -> list[float | None]:
        return [r.ratio for r in self.results]

    @property
    def median(self) -> float | None:
        """The median of the rounds; None when a round was not measured."""
        ratios = self.ratios
        if not ratios or any(r is None for r in ratios):
            return None
        return statistics.median(r for r in ratios if r is not None)


def outside_pages(database: Path) -> list[tuple[Page, str]]:
    """The outside run's pages, each with the role it is measured as."""
    marks = landmarks(database)
    page_500 = deep_pages(database)[0]  # the list's, by key; the last when there are fewer
    postmortem = f"/incidents/{marks.postmortem_id}"
    return [
        (Page(PAGE_ONE, "/incidents/", PAGE_TARGET), "admin"),
        (Page(PAGE_ONE, "/incidents/", PAGE_TARGET), "reader"),
        (Page("list by stage", f"/incidents/?stage={marks.stage_id}", PAGE_TARGET), "admin"),
        (Page("list by category", "/incidents/?category=TECH_DEBT_CULTURE", PAGE_TARGET), "admin"),
        (page_500, "admin"),
        (Page("postmortem page", postmortem, POSTMORTEM_TARGET), "admin"),
        (Page("postmortem page", postmortem, POSTMORTEM_TARGET), "reader"),
        (Page("guard list", "/guards/", PAGE_TARGET), "admin"),
        (Page("most-linked guard, page 1", f"/guards/{marks.guard_id}", GUARD_TARGET), "admin"),
        (Page("causes", "/taxonomy/", PAGE_TARGET), "admin"),
        (Page("teams", "/teams/", PAGE_TARGET), "admin"),
    ]


def measure_size(size: int) -> None:
    """Measure the outside method's pages at `size` postmortems and print its table."""
    seed = int(os.environ.get("BENCH_SEED", SEED))
    load_start = os.getloadavg()[0]
    database = cached_database(size, seed, shape="outside")
    items = outside_pages(database)
    rows = {(page.name, role): Row(page, role, []) for page, role in items}
    rng = random.Random(seed)
    print(f"\n== Outside method, {size:,} postmortems (outside shape) on sqlite ==")
    with serving(database, "sqlite") as server:
        server.start()
        try:
            sessions = {role: sign_in(server.port, email) for role, email in ROLES.items()}
        except (RuntimeError, Failed) as exc:
            shout(f"{exc}; nothing measured at {size:,}")
            print(server.log_tail())
            return
        bench = Bench(server, clients=CLIENTS)
        bench.measure_healthz()
        for n in range(1, ROUNDS + 1):
            order = items[:]
            rng.shuffle(order)
            for page, role in order:
                result = bench.measure(page, role, sessions[role])
                rows[(page.name, role)].results.append(result)
                shown = f"{result.ratio:.3f}" if result.ratio is not None else "failed"
                print(f"  round {n}: {page.name} as {role} ({page.path}): {shown}", flush=True)
    print_table(size, list(rows.values()), load_start, os.getloadavg()[0])


def target(row: Row, rows: list[Row]) -> tuple[float | None, str]:
    """The ratio this row must reach, and how to show it. Page 500's is page 1's (as the
    same admin) over 1.5, when that is above the tenth every page must reach."""
    if not is_deep(row.page):
        return row.page.target, f"≥{row.page.target:.2f}"
    page_one = next(r for r in rows if r.page.name == PAGE_ONE and r.role == row.role).median
    if page_one is None:
        return None, "p1 failed"
    shown = f"≥max({row.page.target:.2f}, p1/{DEEP_SLOWDOWN:g})"
    return max(row.page.target, page_one / DEEP_SLOWDOWN), shown


def is_deep(page: Page) -> bool:
    """Whether this is the list's page 500 (reached by key)."""
    return page.path.startswith("/incidents/?after=")


def print_table(size: int, rows: list[Row], load_start: float, load_end: float) -> None:
    rounds = "".join(f"{'round ' + str(n):>9}" for n in range(1, ROUNDS + 1))
    print(
        f"\n== Outside method (issue 18) at {size:,}: ratio to /healthz, {CLIENTS} clients, "
        f"{ROUNDS} shuffled rounds =="
    )
    print(f"{'page':26} {'role':6}{rounds} {'median':>8} {'target':>26}  verdict")
    failed = []
    for row in rows:
        cells = "".join(f"{r:9.3f}" if r is not None else f"{'failed':>9}" for r in row.ratios)
        needed, shown = target(row, rows)
        median = row.median
        if needed is not None:
            shown += f" ={needed:.3f}" if is_deep(row.page) else ""
        passed = median is not None and needed is not None and median >= needed
        if not passed:
            failed.append(f"{row.page.name} as {row.role}")
        median_cell = f"{median:8.3f}" if median is not None else f"{'—':>8}"
        print(
            f"{row.page.name:26} {row.role:6}{cells} {median_cell} {shown:>26}  "
            + ("PASS" if passed else "FAIL")
        )
    print(f"load average {load_start:.2f} at the start, {load_end:.2f} at the end")
    if failed:
        print(
            f"SUMMARY (outside, {size:,}): {len(rows) - len(failed)} of {len(rows)} pass issue "
            "18's targets; failing: " + "; ".join(failed)
        )
    else:
        print(f"SUMMARY (outside, {size:,}): all {len(rows)} pass issue 18's targets.")
