"""measure.reclaim_walk: memcg reclaim calls out of a vmscan trace."""
from measure.reclaim_walk import lost_events, reclaim_calls

TRACE = """\
# entries-in-buffer/entries-written: 9/9   #P:2
 vgetrandom-harn-27240   [001] ..... 100.000100: mm_vmscan_memcg_reclaim_begin: order=0 gfp_flags=GFP_HIGHUSER_MOVABLE
     kswapd0-90      [000] d..1. 100.000150: mm_vmscan_lru_isolate: classzone=4 order=0 nr_requested=32 nr_scanned=32 nr_skipped=0 nr_taken=32 lru=inactive_file
 vgetrandom-harn-27240   [001] d..1. 100.000200: mm_vmscan_lru_isolate: classzone=4 order=0 nr_requested=32 nr_scanned=32 nr_skipped=0 nr_taken=32 lru=inactive_file
 vgetrandom-harn-27240   [001] ..... 100.000212: mm_vmscan_lru_shrink_inactive: nid=0 nr_scanned=32 nr_reclaimed=0 nr_dirty=0 nr_writeback=0 nr_congested=0 nr_immediate=0 nr_activate_anon=0 nr_activate_file=0 nr_ref_keep=32 nr_unmap_fail=0 priority=1 flags=RECLAIM_WB_FILE|RECLAIM_WB_ASYNC
     kswapd0-90      [000] ..... 100.000250: mm_vmscan_lru_shrink_inactive: nid=0 nr_scanned=32 nr_reclaimed=32 nr_dirty=0 nr_writeback=0 nr_congested=0 nr_immediate=0 nr_activate_anon=0 nr_activate_file=0 nr_ref_keep=0 nr_unmap_fail=0 priority=12 flags=RECLAIM_WB_FILE|RECLAIM_WB_ASYNC
 vgetrandom-harn-27240   [001] d..1. 100.000300: mm_vmscan_lru_isolate: classzone=4 order=0 nr_requested=32 nr_scanned=20 nr_skipped=0 nr_taken=20 lru=inactive_file
 vgetrandom-harn-27240   [001] ..... 100.000340: mm_vmscan_lru_shrink_inactive: nid=0 nr_scanned=20 nr_reclaimed=0 nr_dirty=0 nr_writeback=0 nr_congested=0 nr_immediate=0 nr_activate_anon=0 nr_activate_file=20 nr_ref_keep=0 nr_unmap_fail=0 priority=0 flags=RECLAIM_WB_FILE|RECLAIM_WB_ASYNC
 vgetrandom-harn-27240   [001] ..... 100.000350: mm_vmscan_lru_shrink_active: nid=0 nr_taken=3 nr_active=0 nr_deactivated=3 nr_referenced=0 priority=0 flags=RECLAIM_WB_FILE|RECLAIM_WB_ASYNC
 vgetrandom-harn-27240   [001] ..... 100.000400: mm_vmscan_memcg_reclaim_end: nr_reclaimed=0
"""


def test_a_reclaim_call_counts_only_its_own_task_s_batches():
    [call] = reclaim_calls(TRACE)
    assert call["nr_scanned"] == 52 and call["nr_ref_keep"] == 32
    assert call["nr_activate_file"] == 20 and call["nr_reclaimed"] == 0
    assert call["batches"] == 2 and call["batch_ns"] == 12_000 + 40_000
    assert call["duration_ns"] == 300_000 and call["start_ns"] == 0
    assert call["min_priority"] == 0 and call["nr_deactivated"] == 3


def test_a_call_cut_by_the_trace_s_end_is_not_a_row():
    cut = "\n".join(TRACE.splitlines()[:-1])
    assert reclaim_calls(cut) == []


def test_lost_events_come_from_the_header():
    assert lost_events(TRACE) == 0
    assert lost_events("# entries-in-buffer/entries-written: 90/120   #P:2\n") == 30
