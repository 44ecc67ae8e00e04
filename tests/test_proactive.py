"""Proactive reclaim (pressure.profile = "proactive"): memory_reclaim() of
mm/memcontrol.c as the model runs it, against the guest runs of
data/guests/proactive-*.csv."""
from __future__ import annotations

import pandas as pd
import pytest

import model
from model.calibration import DATA_DIR
from model.scenario import ScenarioError, from_dict
from model.sim.memory import MAX_RECLAIM_RETRIES, ProactiveReclaim
from model.sim.simulation import Simulation, simulate
from model.validate import SEEDS, proactive_cases

from test_model import COSTS, values
from test_scenario_cli import cli

# The harness's states run in a guest (data/guests/proactive-*.csv): 4
# threads at 1 kHz, 28 at each other rate, a page per class, a 256 MiB memcg
# never near its limit.
GUEST = {
    "run.duration_s": 65, "run.settle_s": 5, "memcg.limit_bytes": "256 MiB",
    "workload.threads_per_process": 116,
    "workload.calls_per_s": [[1000, 4], [100, 28], [10, 28], [1, 28], [0.05, 28]],
    "workload.process_rss_bytes": "3 MiB", "pressure.file_stream_bytes_per_s": 0,
}
AGENT = {"pressure.profile": "proactive", "pressure.proactive_reclaim_bytes": "4 MiB",
         "pressure.proactive_period_s": 5}
CACHE = {"pressure.file_hot_bytes": "64 MiB", "pressure.file_hot_fraction": 0.0,
         "pressure.file_hot_refault_bytes_per_s": "4 MiB"}


def one_write_at(t_s: float, design: str, overrides: dict):
    """Run the guest's states scenario with no agent and make one write of
    4 MiB at t_s; returns (state folios resident before, after, what the
    write returned, (asked, reclaimed) of each try_to_free_mem_cgroup_pages(),
    metrics)."""
    sim = Simulation(model.load("states", {**GUEST, **overrides}), design, 1, COSTS,
                     check_invariants=True)
    seen = {}
    calls = []
    reclaim = sim.domain.reclaim

    def counted(*args, **kwargs):
        scanned, reclaimed = reclaim(*args, **kwargs)
        calls.append((args[0], reclaimed))
        return scanned, reclaimed

    def agent():
        yield sim.env.timeout(t_s)
        seen["before"] = [f for f in sim.state_folios() if f.resident]
        sim.domain.reclaim = counted
        seen["met"] = ProactiveReclaim(sim.env, sim.domain, 1024, 5.0, t_s, 0.0,
                                       sim.metrics).write()
        sim.domain.reclaim = reclaim
        seen["after"] = [f for f in sim.state_folios() if f.resident]

    sim.env.process(agent())
    v = values(sim.run())
    return seen["before"], seen["after"], seen["met"], calls, v


def test_nothing_else_reclaimable_drops_every_resident_state_page():
    """The states are the only file folios: the request cannot be met, every
    call runs to the last priority, and no page stays, the 1 kHz one
    included; the write comes back short (-EAGAIN) after its retries."""
    before, after, met, calls, v = one_write_at(30.0, "droppable", {})
    assert len(before) == 5
    assert after == [] and not met
    # memory_reclaim(): one call, then MAX_RECLAIM_RETRIES more that reclaim
    # nothing (a dropped droppable folio is never counted), each asking a
    # quarter of the request.
    assert calls == [(256, 0)] * (MAX_RECLAIM_RETRIES + 1)
    assert v["reclaims_short"] == 1 and v["reclaim_state_pages_dropped"] == 5
    assert v["reclaim_pgsteal"] == 0


def test_the_fix_counts_its_drops_and_asks_again():
    """droppable-fixed counts the five dropped pages: a call that reclaims
    spends no retry, and each asks a quarter of what is left."""
    _, after, met, calls, v = one_write_at(30.0, "droppable-fixed", {})
    assert after == [] and not met
    done = 0
    for asked, reclaimed in calls:
        assert asked == max((1024 - done) // 4, 32)
        done += reclaimed
    assert done == v["reclaim_pgsteal"] == 5
    assert sum(r == 0 for _, r in calls) == MAX_RECLAIM_RETRIES + 1


def test_enough_cold_cache_takes_the_request_and_drops_no_state():
    before, after, met, calls, v = one_write_at(30.0, "droppable", CACHE)
    assert met and after == before and len(before) == 5
    assert sum(r for _, r in calls) == v["reclaim_pgsteal"]
    assert 1024 <= v["reclaim_pgsteal"] < 1024 + 32      # SWAP_CLUSTER_MAX overshoot at most
    assert v["states_dropped"] == 0


def test_the_agent_writes_every_period_in_the_window():
    """Writes at 0, 5, ... 60 s; those from run.settle_s on are counted, as
    the harness counts the ones inside its window: 12."""
    bare = values(simulate(model.load("states", {**GUEST, **AGENT}), "droppable", seed=1,
                           costs=COSTS, check_invariants=True))
    assert bare["reclaims"] == 12 and bare["reclaims_short"] == 12
    assert bare["reclaims_dropping"] == 12
    cached = values(simulate(model.load("states", {**GUEST, **AGENT, **CACHE}), "droppable",
                             seed=1, costs=COSTS, check_invariants=True))
    assert cached["reclaims"] == 12 and cached["reclaims_short"] == 0
    assert cached["reclaim_state_pages_dropped"] == 0
    # The first write (at 0 s, before the reader has read anything) takes
    # the states, as in the guests; none in the window.
    assert cached["states_dropped"] > 0 and cached["file_refaults"] > 0


@pytest.mark.parametrize("name", ["proactive", "proactive-bare"])
def test_same_seed_same_frames_other_seed_differs(name):
    over = {"run.duration_s": 60}
    a, b, c = (simulate(model.load(name, over), "droppable", seed=s, costs=COSTS)
               for s in (3, 3, 4))
    pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.classes, b.classes, check_exact=True)
    assert not values(a).equals(values(c))


def test_the_scenarios_show_both_regimes():
    with_cache = values(simulate(model.load("proactive", {"run.duration_s": 120}),
                                 "droppable", seed=1, costs=COSTS))
    bare = values(simulate(model.load("proactive-bare", {"run.duration_s": 120}),
                           "droppable", seed=1, costs=COSTS))
    assert with_cache["reclaims"] == bare["reclaims"] == 23
    assert with_cache["states_dropped"] == 0 and with_cache["reclaims_short"] == 0
    assert bare["reclaims_short"] == 23 and bare["p_state_dropped_in_key_life"] > 0.9


def test_guest_runs_are_predicted_within_target():
    """Every proactive guest run, from its own inputs (nothing fitted)."""
    rows, notes = proactive_cases(DATA_DIR, model.calibration.load_costs(), SEEDS)
    cases = [r for r in rows if r["group"] == "guest"]
    assert len(cases) == 48 and not notes
    for r in cases:
        assert r["error"] <= r.get("target", 0.15), r
    # The mechanism too: the pages each write scanned, within 15% of the memcg's pgscan.
    scans = [r for r in rows if r["group"] == "pgscan"]
    assert len(scans) == 8 and all(r["error"] <= 0.15 for r in scans), scans


@pytest.mark.parametrize("raw, message", [
    ({"pressure": {"profile": "proactive"}},
     "pressure.profile = 'proactive' writes to a memcg's memory.reclaim: set memcg.limit_bytes"),
    ({"memcg": {"limit_bytes": "1 GiB"},
      "pressure": {"profile": "proactive", "anon_base_bytes": "64 MiB"}},
     "pressure.anon_base_bytes = 67108864: pressure.profile = 'proactive' runs no hog"),
    ({"pressure": {"proactive_period_s": 0}}, "pressure.proactive_period_s = 0"),
    ({"pressure": {"proactive_reclaim_bytes": 0}}, "pressure.proactive_reclaim_bytes = 0"),
    ({"pressure": {"proactive_first_s": -1}}, "pressure.proactive_first_s = -1"),
    ({"pressure": {"file_hot_refault_bytes_per_s": "fast"}},
     "pressure.file_hot_refault_bytes_per_s = 'fast'"),
])
def test_bad_parameters_are_one_line(raw, message):
    with pytest.raises(ScenarioError) as e:
        from_dict(raw)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_cli_refuses_an_agent_without_a_memcg(tmp_path):
    bad = tmp_path / "agent.toml"
    bad.write_text('[pressure]\nprofile = "proactive"\n')
    p = cli("run", str(bad), "--out", str(tmp_path / "r"))
    assert p.returncode == 2 and "set memcg.limit_bytes" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
