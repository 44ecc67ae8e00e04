"""model.atomic: no half-written file, whatever interrupts the write."""
from __future__ import annotations

import os

import pytest

from model import atomic


def test_a_write_that_fails_leaves_the_old_file_and_no_scratch(tmp_path):
    target = tmp_path / "runs.csv"
    atomic.write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic.replacing(target) as f:
            f.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]


def test_a_ctrl_c_just_after_the_scratch_file_exists_removes_it(tmp_path, monkeypatch):
    """The window tempfile.mkstemp() left open: the file is made, and the
    interrupt lands before the caller has its name."""
    real_open = os.open

    def open_then_interrupted(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(tmp_path / "cache.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_files_and_directories_get_the_mode_new_ones_get(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "report.txt", "x")
        with atomic.directory(tmp_path / "figures") as d:
            (d / "a.png").write_bytes(b"")
    finally:
        os.umask(mask)
    assert (tmp_path / "report.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "figures").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "figures" / "a.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "report.txt"]
