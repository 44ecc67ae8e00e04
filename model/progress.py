"""Progress on stderr for anything that can take more than a few seconds.

On a terminal: a tqdm bar that appears once the work has taken `delay_s`,
so quick work prints nothing.  Elsewhere (a CI log, a pipe, a notebook):
one plain line every `every_s`, so that a log shows long work is alive
without filling up with carriage returns.
"""
from __future__ import annotations

import os
import sys
import time


class Progress:
    def __init__(self, total: float, what: str, unit: str, enabled: bool = True,
                 delay_s: float = 2.0, every_s: float = 30.0):
        self.total, self.what, self.unit = total, what, unit
        self.enabled, self.every_s = enabled, every_s
        self.done = 0.0
        self.started = self.last = time.monotonic()
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm
            # A terminal that reports no size (a bare pty) would hide the bar.
            sized = all(os.get_terminal_size(sys.stderr.fileno()))
            self.bar = tqdm(total=total, desc=what, unit=unit, file=sys.stderr,
                            dynamic_ncols=sized, ncols=None if sized else 80,
                            nrows=None if sized else 24, smoothing=0.05, delay=delay_s)

    def update(self, n: float = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            print(f"{self.what}: {self.done:,.0f} of {self.total:,.0f} {self.unit} "
                  f"({self.last - self.started:.0f} s)", file=sys.stderr, flush=True)

    def doing(self, what: str) -> None:
        """Name the step under way (validate's steps take seconds each)."""
        self.what = what
        if self.bar is not None:
            self.bar.set_description(what)

    def grow(self, n: float) -> None:
        """More work than first planned (a sweep's next batch)."""
        self.total += n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def write(self, line: str) -> None:
        """A line of its own (a failed run), kept clear of the bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *_) -> None:
        self.close()
