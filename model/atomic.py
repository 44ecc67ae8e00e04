"""Write results so that an error or Ctrl-C never leaves half a file behind.

Everything the study writes (CSVs, the report, figures, cached analyses, the
harness's data/ files) goes through replacing(): a temporary file in the
same directory, renamed over the target only when it is complete.  It gets
the mode any new file gets (0666 less the umask), because results are data
to share, not secrets.

The temporary name is chosen before the file exists and the file is made
inside the block that removes it on any exception: a Ctrl-C that lands
just after the file is created (as it can, between a call's return and the
next statement) still finds its name.  With tempfile.mkstemp() that window
left a .tmp behind (seen once in tests/test_sweep.py's Ctrl-C test).
"""
from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager, suppress
from pathlib import Path


def _scratch_name(path: Path) -> Path:
    """A name beside `path` that nothing else uses (64 random bits)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


@contextmanager
def replacing(path: str | Path, mode: str = "w", **open_args):
    """Yield a file open for writing whose contents replace `path` only if
    the block succeeds; `mode` and `open_args` are open()'s."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _scratch_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, mode, **open_args) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    with replacing(path) as f:
        f.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with replacing(path, "wb") as f:
        f.write(data)


def write_csv(path: str | Path, frame) -> None:
    write_text(path, frame.to_csv(index=False))


@contextmanager
def directory(path: str | Path):
    """Yield a scratch directory that replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _scratch_name(path)
    try:
        tmp.mkdir(0o777)
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(f".{path.name}.old")
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
