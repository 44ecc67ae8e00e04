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
    rows = lru_trace.rows_of(TRACE, "vgetrandom-harness states ...", {"regime": "churn"})
    assert {r["rate_hz"] for r in rows} == {1.0}
    assert {r["regime"] for r in rows} == {"churn"}
    assert all(r["command"] == "vgetrandom-harness states ..." for r in rows)
    with pytest.raises(lru_trace.TraceError, match="no refault"):
        lru_trace.rows_of("sample exp=states sample=0 class=0 rate_hz=1\n", "x", {})


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
