"""Files the app writes are its own user's only: 0600 files, 0700 directories it creates.

Postmortems say what went wrong, who was involved and what it cost, and the secret key signs
every session: the database, its backups and exports must not be readable by every account
on the machine, whatever the umask. Files and directories that already exist are the
operator's: a directory keeps its mode; a file written again is set to 0600.
"""

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


def make_private_directory(path: Path) -> None:
    """Create `path` and its missing parents as 0700 (`mkdir -p` would give the parents the
    umask's mode)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create `path` empty, as 0600, before a library (sqlite3) opens it; an existing file is
    left as it is."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def write_private(path: Path, data: bytes) -> None:
    """Write `data` into `path` as 0600 (a file that was there is truncated and set to 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE)
        file.write(data)
