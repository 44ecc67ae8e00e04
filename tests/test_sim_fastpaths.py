"""The simulator's shortcuts (bench/model_bench.py says why they exist) agree
with the plain computation they replace, so that a change in what they
assume fails here instead of moving a number silently."""
from __future__ import annotations

import gc
import random

import model
from model.sim.lru import Lruvec, Run
from model.sim.memory import SWAP_CLUSTER_MAX
from model.sim.placement import ANON_LRU, DROPPABLE
from model.sim.simulation import Simulation, simulate
from model.sim import states
from model.sim.states import StateFolio

from test_model import COSTS


def test_fork_finds_the_held_states_as_a_walk_over_every_slot_would():
    """StateAllocator._held_indices takes the complement of the free list
    where the pool is dense; it must equal the slots with a thread, in
    address order, for every process at every fork."""
    scenario = model.load("fork-server", {"run.duration_s": 120})
    sim = Simulation(scenario, "droppable", 1, COSTS)
    checked = []
    real = states.StateAllocator._held_indices

    def checked_held(self, keep):
        fast = real(self, keep)
        walk = [s.index for f in self._folios.values() for s in f.slots
                if s.thread is not None and s is not keep]
        assert list(fast) == walk
        checked.append(len(fast))
        return fast

    states.StateAllocator._held_indices = checked_held
    try:
        sim.run()
    finally:
        states.StateAllocator._held_indices = real
    assert len(checked) > 50 and max(checked) > 0        # many forks, threads held


class _Owner:
    placement = DROPPABLE
    hot_fraction = 0.5
    ref_carry = 0.0


def _lruvec(seed: int):
    """An active list of runs of two owners and state folios, shuffled."""
    rng = random.Random(seed)
    lruvec = Lruvec(reclaim_rng=None)
    owners = [_Owner(), _Owner()]
    folios = []
    for _ in range(60):
        if rng.random() < 0.4:
            folio = StateFolio(owners[0], DROPPABLE, 0, 1)
            folios.append(folio)
            lruvec.add(folio, ANON_LRU, active=True)
        else:
            lruvec.add(Run(rng.choice(owners), rng.randint(1, 70)), ANON_LRU, active=True)
    return lruvec, owners, folios


def _shape(lruvec, owners, folios):
    """Each list as (run owner or folio, pages), and each folio's clock and list."""
    lists = [[(owners.index(s.owner), s.pages) if isinstance(s, Run) else
              (f"folio{folios.index(s)}", 1) for s in lst.segments]
             for lst in lruvec.lists.values()]
    return lists, [(f.young_t, f.young_forced, f.lru) for f in folios]


def test_active_batches_in_one_call_match_one_call_per_batch():
    """Domain.reclaim deactivates the active batches left after the inactive
    share in one shrink_active() call: the lists and every folio's clock
    must be those of one call per SWAP_CLUSTER_MAX batch."""
    for seed in range(20):
        nr = random.Random(seed).randint(1, 1500)
        one, one_owners, one_folios = _lruvec(seed)
        many, many_owners, many_folios = _lruvec(seed)
        one.shrink_active(ANON_LRU, nr, 5.0, 1e-6, SWAP_CLUSTER_MAX)
        left = nr
        while left:
            batch = min(SWAP_CLUSTER_MAX, left)
            left -= batch
            many.shrink_active(ANON_LRU, batch, 5.0, 1e-6)
        assert _shape(one, one_owners, one_folios) == _shape(many, many_owners, many_folios)


def test_simulate_leaves_the_collector_as_it_found_it():
    """simulate() turns the cyclic collector off for the run only."""
    scenario = model.load("server", {"run.duration_s": 30})
    assert gc.isenabled()
    simulate(scenario, "droppable", seed=0, costs=COSTS)
    assert gc.isenabled()
    gc.disable()
    try:
        simulate(scenario, "droppable", seed=0, costs=COSTS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_batch_pairs_between_runs_in_one_call_match_the_batch_by_batch_scan():
    """Lruvec.shrink_runs() adds up the SWAP_CLUSTER_MAX batch pairs that
    Domain.reclaim would otherwise scan one shrink_inactive() and one
    shrink_active() call at a time; a Q3 run near the OOM edge, where hot page
    cache cycles between the lists, must give the same frames either way."""
    scenario = model.load("spikes", {"run.duration_s": 150, "pressure.restart_after_oom_s": 10,
                                     "pressure.anon_peak_bytes": "3056 MiB"})
    real = Lruvec.shrink_runs
    fused = []

    def counted(self, *args):
        out = real(self, *args)
        fused.append(out[2])
        return out

    def batch_by_batch(self, lru_type, nr_inactive, nr_active, batch_pages, nr_to_reclaim):
        return nr_inactive, nr_active, 0, 0

    runs = []
    for shrink_runs in (counted, batch_by_batch):
        Lruvec.shrink_runs = shrink_runs
        try:
            runs.append(simulate(scenario, "droppable", seed=3, costs=COSTS))
        finally:
            Lruvec.shrink_runs = real
    assert sum(fused) > 100_000                 # the shortcut did most of a scan
    for field in ("metrics", "timeseries", "oom_events", "classes"):
        assert getattr(runs[0], field).equals(getattr(runs[1], field)), field
