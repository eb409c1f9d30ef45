"""Default configuration; instance/config.py and POSTMORTEMS_* variables override it."""


class Config:
    # No default secret: `make run` writes one to instance/config.py, production sets
    # POSTMORTEMS_SECRET_KEY. create_app refuses to start without one outside debug/testing.
    SECRET_KEY: str | None = None
    # None means the SQLite file instance/postmortems.db (the path is known only at runtime).
    DATABASE_URL: str | None = None
    # The zone in which times are shown and entered; storage is always UTC.
    TIMEZONE = "UTC"
    INCIDENTS_PER_PAGE = 20
    WTF_CSRF_TIME_LIMIT = None  # a long postmortem can take more than an hour to write
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
