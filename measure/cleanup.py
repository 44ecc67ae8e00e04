"""Make SIGTERM unwind like Ctrl-C, so that `with` blocks (temporary
directories, locks) are left cleanly when a run is stopped."""
import signal
import sys


def exit_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
