"""How a `python -m model` command ends: 0, one line of error (2) or Ctrl-C (130)."""
from __future__ import annotations

import sys


def exit_status(action, errors: tuple, interrupted: str = "interrupted: nothing written") -> int:
    """Run action() and turn what it raises into an exit status.

    An expected error (one of `errors`: bad input, missing data) is one line
    on stderr and status 2, never a traceback; Ctrl-C prints `interrupted`,
    which says what was kept, and is 130.  action() returns a status, or
    None for 0.
    """
    try:
        status = action()
    except errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    return status or 0
