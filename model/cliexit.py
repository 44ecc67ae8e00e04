"""How a `python -m model` command ends: 0, one line of error (2) or Ctrl-C (130),
and the check every command makes of its output location before it works."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path


class OutputError(ValueError):
    """An output location that cannot be written; str() is the one-line message."""


def exit_status(action, errors: tuple, interrupted: str = "interrupted: nothing written") -> int:
    """Run action() and turn what it raises into an exit status.

    An expected error (one of `errors`: bad input, missing data) is one line
    on stderr and status 2, never a traceback; Ctrl-C prints `interrupted`,
    which says what was kept, and is 130.  action() returns a status, or
    None for 0.  An OutputError is always expected.
    """
    try:
        status = action()
    except (OutputError, *errors) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    return status or 0


def check_out(path: str | Path, is_file: bool = False, flag: str = "--out") -> Path:
    """Refuse, before any work, an output that could not be written at the end.

    `path` is a directory to create or fill (or with is_file, a file to
    write).  Its nearest existing ancestor must be a directory in which this
    process can create an entry: tried for real, with a scratch directory
    removed at once, since permission bits say nothing to root and nothing
    of a read-only mount.  Nothing is left behind.
    """
    path = Path(path)
    if is_file and path.is_dir():
        raise OutputError(f"{flag} {path}: is a directory, expected a file name")
    if not is_file and path.exists() and not path.is_dir():
        raise OutputError(f"{flag} {path}: is a file, not a directory")
    where = path.parent if is_file else path
    while not where.exists() and where != where.parent:
        where = where.parent
    if not where.is_dir():
        raise OutputError(f"{flag} {path}: {where} is a file, not a directory")
    try:
        tempfile.TemporaryDirectory(dir=where, prefix=".write-test.").cleanup()
    except OSError as e:
        raise OutputError(f"{flag} {path}: cannot write in {where}: "
                          f"{e.strerror or e}") from None
    return path
