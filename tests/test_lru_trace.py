"""measure.lru_trace: a page's trace read into refaults, as the kernel's
LRU moves a timer-locked state page."""
import pytest

from measure import lru_trace

# A 1 Hz page: dropped (absent) after two scans, faulted back at the next
# call; once it waits off the LRU long enough to straddle a call between
# two scans, it is activated and stays.
TRACE = """\
# trace t_s=-1.0000 page=0 where=inactive
# trace t_s=-0.9000 page=0 where=inactive_ref
# trace t_s=-0.8000 page=0 where=absent
# trace t_s=0.0050 page=0 where=off_lru
# trace t_s=0.0150 page=0 where=inactive
# trace t_s=0.1100 page=0 where=inactive_ref
# trace t_s=0.2100 page=0 where=absent
# trace t_s=1.0050 page=0 where=off_lru
# trace t_s=1.8900 page=0 where=inactive
# trace t_s=1.9900 page=0 where=inactive_ref
# trace t_s=2.1000 page=0 where=active_ref
sample exp=states sample=0 class=0 rate_hz=1 threads=28
"""


def test_refaults_their_stay_off_the_lru_and_outcome():
    rows = lru_trace.refaults(lru_trace.page_places(TRACE)[0])
    assert [(r["faulted_s"], r["off_lru_s"], r["outcome"]) for r in rows] == [
        (0.005, 0.01, "dropped"), (1.005, 0.885, "activated")]
    assert rows[1]["outcome_s"] == 2.1


def test_rows_carry_the_rate_and_a_trace_without_refaults_is_an_error():
    rows = lru_trace.rows_of(TRACE, "vgetrandom-harness states ...",
                             {"regime": "churn", "trace_ms": 10})
    assert {r["rate_hz"] for r in rows} == {1.0}
    assert {r["regime"] for r in rows} == {"churn"}
    assert all(r["command"] == "vgetrandom-harness states ..." for r in rows)
    # the scope a trace's waits hang on, as measure.host's rows record it
    assert all({"lru", "cgroup", "swap_kib"} <= r.keys() for r in rows)
    with pytest.raises(lru_trace.TraceError, match="no refault"):
        lru_trace.rows_of("sample exp=states sample=0 class=0 rate_hz=1\n", "x", {"trace_ms": 10})


def test_every_trace_runs_the_campaigns_own_regime():
    for regime, pattern, seed in lru_trace.TRACES["campaign"]:
        args = lru_trace.trace_args(regime, pattern, seed)
        assert args[args.index("--pattern") + 1] == pattern
        assert "--trace-ms" in args and "--churn-mib" in args
        assert ("--hog-mib" in args) == (regime == "hog_churn")


def test_a_pinned_trace_differs_from_the_unpinned_one_only_by_its_placement():
    """Unpinned traces keep the commands they were taken with (--resume
    matches on them); a pinned one adds --placement and nothing else."""
    any_ = lru_trace.trace_args("spike_churn", "periodic", 1)
    split = lru_trace.trace_args("spike_churn", "periodic", 1, placement="split")
    assert "--placement" not in any_
    assert split == any_ + ["--placement", "split"]


def test_the_placement_traces_pin_each_regime_both_ways():
    sets = {(regime, placement) for regime, _, _, placement in lru_trace.TRACES["placement"]}
    assert sets == {(r, p) for r in ("spike_churn", "churn") for p in ("same", "split")}
    assert lru_trace.OUTS["placement"].name == "states_trace_placement.csv"


def test_a_refault_is_placed_on_its_first_zeroed_call_and_timed_to_the_reader_s_return():
    """The first page-mate's zeroed call on the absent page is the refault;
    away from the reader, reader_back_s runs to the reader's next read on
    that CPU, to compare with the page's stay off the LRU."""
    stdout = TRACE + "\n".join([
        "# zeroed t_s=0.0040 thread=3 page=0 absent=1 cpu=0",
        "# zeroed t_s=0.0041 thread=4 page=0 absent=1 cpu=1",
        "# zeroed t_s=1.0030 thread=5 page=0 absent=1 cpu=1",
        "# zeroed t_s=1.0031 thread=3 page=0 absent=0 cpu=0",
        "# reader t_s=-1.0000 cpu=1",
        "# reader t_s=0.0130 cpu=0",
        "# reader t_s=0.5000 cpu=1"]) + "\n"
    rows = lru_trace.rows_of(stdout, "x", {"regime": "churn", "trace_ms": 10})
    assert [(r["refault_cpu"], r["reader_cpu"], r["reader_back_s"]) for r in rows] == [
        (0, 1, 0.009),          # joined 0.01 s after: when the reader came to CPU 0
        (1, 1, 0.0)]            # beside the reader
    line = lru_trace.reader_back_line(rows)
    assert "2 refaults placed, 1 away from the reader" in line and "1 joined when" in line
    # a harness without cpu= fields places nothing
    bare = lru_trace.rows_of(TRACE, "x", {"regime": "churn", "trace_ms": 10})
    assert {r["refault_cpu"] for r in bare} == {None}


def test_the_reader_traces_are_unpinned():
    assert all(len(t) == 3 for t in lru_trace.TRACES["reader"])
    assert lru_trace.OUTS["reader"].name == "states_trace_reader.csv"
