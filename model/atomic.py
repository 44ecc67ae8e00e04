"""Write results so that an error or Ctrl-C never leaves half a file behind.

Everything the study writes (CSVs, the report, figures, cached analyses, the
harness's data/ files) goes through replacing(): a temporary file in the
same directory, renamed over the target only when it is complete.  The
temporary file is created 0600 by mkstemp; it is given the mode any new file
gets (0666 less the umask) before the rename, because results are data to
share, not secrets.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def replacing(path: str | Path, mode: str = "w", **open_args):
    """Yield a file open for writing whose contents replace `path` only if
    the block succeeds; `mode` and `open_args` are open()'s."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **open_args) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
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
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~_umask())
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(f".{path.name}.old")
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
