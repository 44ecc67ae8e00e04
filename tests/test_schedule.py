"""The pressure schedule: each seed draws its own, every design sees the same one."""
from __future__ import annotations

import numpy as np
import pytest

import model
from model.sim.simulation import Simulation, Streams, simulate
from model.sim.workload import Hog

from test_model import COSTS


def spike_starts(scenario, seed: int, ordinal: int = 0, until_s: float = 10_000.0) -> list:
    """The spike start times (since the hog's start) of a run's ordinal-th hog."""
    sim = Simulation(scenario, "droppable", seed, COSTS)
    hog = Hog(sim, 99, Streams(seed).rng("hog", ordinal))
    starts, was = [], False
    for t in np.arange(0.0, until_s, 0.5):
        now = hog._in_spike(t, scenario.pressure)
        if now and not was:
            starts.append(hog.spike_on_s)
        was = now
    return starts


def test_clockwork_spikes_keep_their_period_from_a_random_phase():
    sc = model.load("spikes", {"pressure.spike_gap_cv": 0.0})
    p = sc.pressure
    for seed in range(5):
        starts = spike_starts(sc, seed)
        assert 0.0 <= starts[0] < p.spike_period_s
        assert np.allclose(np.diff(starts), p.spike_period_s)
    phases = [spike_starts(sc, seed, until_s=200.0)[0] for seed in range(20)]
    assert len(set(phases)) == 20             # every seed its own phase
    assert max(phases) - min(phases) > p.spike_period_s / 2


@pytest.mark.parametrize("cv", [0.5, 1.0])
def test_gaps_have_the_stated_mean_and_variation(cv):
    sc = model.load("spikes", {"pressure.spike_gap_cv": cv})
    p = sc.pressure
    gaps = np.diff(spike_starts(sc, 3, until_s=400_000.0)) - p.spike_duration_s
    assert len(gaps) > 2000
    mean = p.spike_period_s - p.spike_duration_s
    assert gaps.mean() == pytest.approx(mean, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.08)
    assert (gaps >= 0).all()


def test_a_restarted_hog_draws_a_new_schedule():
    sc = model.load("spikes")
    assert spike_starts(sc, 1, 0, 1000.0) != spike_starts(sc, 1, 1, 1000.0)


def test_every_design_sees_the_same_spikes():
    """Where no design runs short of memory, the hog's memory over time is
    the same in every design for a seed, and differs between seeds."""
    overrides = {"run.duration_s": 300, "run.probe_interval_s": 1.0,
                 "machine.ram_bytes": "16 GiB", "workload.processes": 1,
                 "workload.threads_per_process": 8}
    sc = model.load("spikes", overrides)

    def anon(design, seed):
        ts = simulate(sc, design, seed=seed, costs=COSTS).timeseries
        return ts[ts["series"] == "anon_bytes"]["value"].to_numpy()

    base = anon("droppable", 4)
    peak = sc.pressure.anon_peak_bytes - sc.pressure.anon_base_bytes
    assert base.max() - base.min() >= peak           # spikes came and went
    for design in model.DESIGNS:
        # The server's heap and state pages differ by design; the hog's do not.
        mine = anon(design, 4)
        assert np.array_equal(mine - mine[0], base - base[0]), design
    assert not np.array_equal(anon("droppable", 5), base)


def test_leak_starts_within_its_window():
    sc = model.load("leak")
    starts = []
    for seed in range(10):
        sim = Simulation(sc, "droppable", seed, COSTS)
        starts.append(Hog(sim, 99, Streams(seed).rng("hog", 0)).leak_start_s)
    assert all(0.0 <= s < sc.pressure.leak_start_max_s for s in starts)
    assert len(set(starts)) == 10
