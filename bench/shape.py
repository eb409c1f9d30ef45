"""What a generated database holds: its accounts, teams, stages and how many of each part
a postmortem has (bench/generate.py)."""

from dataclasses import dataclass
from datetime import date

SEED = 20200801
ADMIN_EMAIL = "bench-admin@example.com"
READER_EMAIL = "bench-reader@example.com"
PASSWORD = "bench-password-1234"  # every generated account's; the file is throwaway

CHUNK = 5_000  # postmortems per transaction
FIRST_DAY = date(2016, 1, 1)  # ten years, all before today
GUARDS = 300
TAGS = 60
# Distinct texts per kind of Markdown section. Repeating them lets the generator render each
# one once (the app's renderer takes ~0.5 ms a text; 1.4 million texts would take 12 minutes);
# the pages read stored rows and cannot tell a repeated text from a unique one.
TEXT_VARIANTS = 1_000

TEAMS = [
    # name, first day (years after the start), first headcount, people added a year
    ("ML", 0.0, 4, 5.0),
    ("Backend", 0.0, 2, 4.0),
    ("Data platform", 0.8, 2, 3.5),
    ("Frontend", 1.3, 2, 2.5),
    ("QA", 1.8, 2, 2.0),
    ("Infrastructure", 2.2, 2, 3.0),
    ("Research", 2.6, 3, 2.0),
    ("Client integrations", 3.2, 2, 4.0),
]
# The team that ends (a snapshot of 0) this many years after the start.
TEAM_ENDS = ("Research", 5.0)
STAGES = [
    ("Founding", 0, 10, "A handful of people; everyone knows every system."),
    ("Early", 11, 25, "Two or three teams; contracts between them start to matter."),
    ("Scaling", 26, 60, "Several teams; process has to carry what memory used to."),
    ("Growth", 61, None, "Many teams, many clients; nobody knows every system."),
]


# Tables written per chunk, parents first.
TABLE_ORDER = [
    "incident",
    "incident_access",
    "timeline_event",
    "incident_factor",
    "impact_estimate",
    "lesson",
    "action_item",
    "action_item_guard",
    "incident_tag",
    "review_comment",
]
PART_TABLES = ["timeline_event", "incident_factor", "impact_estimate", "lesson", "action_item"]


@dataclass(frozen=True)
class Shape:
    """How a generated postmortem is shaped where the two benchmark methods differ."""

    name: str
    timeline_events: tuple[int, ...]  # a postmortem's count, drawn evenly from these
    got_lucky_share: float  # of postmortems with a "where we got lucky" section
    # 0: each incident section as drawn (about 150-400 characters); else about this many.
    section_chars: int
    # 0: guard links follow Zipf over every guard; else this share of postmortems link guard
    # check #1 from their first action item, and other links spread evenly over the rest.
    top_guard_share: float


SHAPES = {
    # The project's own data since issue 7.
    "own": Shape("own", (2, 3, 3, 4), 0.5, 0, 0.0),
    # The outside run of issue 18: every postmortem 3 timeline events and all six sections of
    # ~700 characters; one guard check linked from ~16% of the postmortems (16,000 of 100,000).
    "outside": Shape("outside", (3,), 1.0, 700, 0.16),
}
