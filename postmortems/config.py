"""Default configuration; instance/config.py and POSTMORTEMS_* variables override it."""


class Config:
    # No default secret: `make run` writes one to instance/config.py, production sets
    # POSTMORTEMS_SECRET_KEY. create_app refuses to start without one, debug mode included.
    SECRET_KEY: str | None = None
    # Placeholder keys seen in tutorials; refused like an empty one.
    INSECURE_SECRET_KEYS = ("dev", "secret", "changeme", "change-me", "development")
    # None means the SQLite file instance/postmortems.db (the path is known only at runtime).
    DATABASE_URL: str | None = None
    # The zone in which times are shown and entered; storage is always UTC.
    TIMEZONE = "UTC"
    INCIDENTS_PER_PAGE = 20
    WTF_CSRF_TIME_LIMIT = None  # a long postmortem can take more than an hour to write
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # Figures and pages kept per worker until the data changes (cache.py): the least recently
    # used go first past this many. A kept page is a few kB to a few hundred kB.
    CACHE_MAX_ENTRIES = 2000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # also Secure whenever a request comes over HTTPS
    # Failed sign-ins (counted in the database, so shared by every worker) allowed within a
    # minute before sign-in is refused (429): per email and client address, so that guesses
    # from elsewhere cannot lock anyone out; and per address, whatever the emails.
    SIGN_IN_FAILURES_PER_MINUTE = 5
    SIGN_IN_FAILURES_PER_ADDRESS_PER_MINUTE = 20
    # A signed-in session ends after this long without a request (a work day with its breaks,
    # so nobody signs in twice a day, but a browser left open overnight is signed out), and
    # this many days after sign-in whatever its use (a stolen cookie is good for a month at most).
    SESSION_IDLE_MINUTES = 12 * 60
    SESSION_LIFETIME_DAYS = 30
    # API tokens expire: this many days after they are made unless their maker picks another
    # number, up to the maximum.
    API_TOKEN_DEFAULT_DAYS = 90
    API_TOKEN_MAX_DAYS = 365
    # API requests allowed per minute (counted in the database, so shared by every worker); 0
    # turns a limit off. Requests with a missing or bad token are limited much lower, per address.
    API_REQUESTS_PER_MINUTE_PER_TOKEN = 300
    API_REQUESTS_PER_MINUTE_PER_ADDRESS = 600
    API_FAILED_AUTH_PER_MINUTE_PER_ADDRESS = 20
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed;
    # 0 ignores those headers, since without a proxy the client writes them.
    TRUSTED_PROXIES = 0

    # What a postmortem needs before a reviewer can publish it (see incidents/workflow.py).
    PUBLISH_REQUIRES_FACTOR = True
    PUBLISH_REQUIRES_IMPACT = True
    PUBLISH_REQUIRES_LESSON = True
    # For these severities every preventive action item must be linked to a guard check.
    PUBLISH_GUARDED_PREVENTIVE_SEVERITIES = ("SEV1", "SEV2")
    # Groups (a growth stage, a quarter) with fewer counted incidents than this carry a note
    # that they are too small to read a trend from.
    REPORT_MIN_SAMPLE_SIZE = 5
    # Report month pieces stored in the database for every worker (figure_piece): past this
    # many rows the oldest made are deleted as new ones are written.
    REPORT_STORED_PIECES = 20_000
    # A person counts as new (their home page offers the reading paths meant for them) for this
    # many days after their account was made, and after that while they have read nothing.
    NEW_USER_DAYS = 30

    # Limits on each Markdown text (see docs/limits.md), checked before it is rendered or saved:
    # its length; how deep lists, quotes and [brackets] may nest; how many `[` one text may
    # leave unclosed (each makes rendering search its paragraph again); and the CPU time one
    # rendering may take before the text is refused as too slow to format.
    MARKDOWN_MAX_CHARS = 100_000
    MARKDOWN_MAX_NESTING = 16
    MARKDOWN_MAX_UNCLOSED_BRACKETS = 100
    MARKDOWN_RENDER_SECONDS = 0.5
