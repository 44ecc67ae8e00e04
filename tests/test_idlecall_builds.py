"""measure.idlecall_builds: the busy main thread timed in several builds."""

import csv
import shutil

import pytest

from measure import idlecall_builds as ib

needs_cc = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                              reason="no C compiler")


def test_runs_take_turns_every_build_inline_then_in_a_function_where_it_can():
    """Each turn times every build once inline, then in a function where the
    build has --call-code; the turns are the processes, labelled --repeat."""
    runs = ib.runs(processes=2)
    arms = [(b.name, "--call-code" in o) for b, o in runs]
    turn = [(b.name, code) for b in ib.BUILDS for code in (False, True)[:1 + b.call_code]]
    assert arms == turn * 2
    assert [o[o.index("--repeat") + 1] for _, o in runs] == ["1"] * len(turn) + ["2"] * len(turn)
    assert all(o[:o.index("--companion") + 2] == [
        "--gaps-ms", "1000", "--calls", "10", "--spin", "0", "--modes", "vdso",
        "--companion", "vdso:1000:28"] for _, o in runs)
    # the old builds, which have no --call-code, are the source idlecall.csv was timed by
    assert [b.name for b in ib.BUILDS if not b.call_code] == ["a71c909", "2c0ebda"]


@pytest.mark.parametrize("argv, said", [
    (["--builds", "nosuch"], "--builds: no build 'nosuch'"),
    (["--processes", "0"], "--processes and --calls must be 1 or more"),
])
def test_bad_options_get_one_line(argv, said, capsys, tmp_path):
    assert ib.main([*argv, "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


@needs_cc
def test_a_build_is_timed_both_ways_and_resumes(tmp_path, capsys, monkeypatch):
    """One process each way in a build of HEAD's source (a clone may lack
    the older commits): rows name the build, its commit and flags, and say
    how the call was timed; --resume keeps them and runs nothing again."""
    head = ib.Build("head", "HEAD", "-fno-omit-frame-pointer", call_code=True)
    monkeypatch.setattr(ib, "BUILDS", (head,))
    monkeypatch.setattr(ib, "BUILD_DIR", tmp_path / "builds")
    out = tmp_path / "builds.csv"
    argv = ["--processes", "1", "--calls", "2", "--gap-ms", "1", "--out", str(out)]
    assert ib.main(argv) == 0
    rows = list(csv.DictReader(open(out, newline="")))
    assert [(r["build"], r["call_code"]) for r in rows] == [("head", "none")] * 2 \
        + [("head", "own")] * 2
    assert {(r["build_commit"], r["build_cflags"]) for r in rows} \
        == {("HEAD", "-fno-omit-frame-pointer")}
    assert all(int(r["ns_per_call"]) > 0 for r in rows)
    before = out.read_bytes()
    assert ib.main(argv + ["--resume"]) == 0
    assert out.read_bytes() == before
    assert "head call code  own" in capsys.readouterr().out
