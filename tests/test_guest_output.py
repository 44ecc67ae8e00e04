"""The guests' serial console: markers, harness lines, console noise; the
rows written from it; and the KVM-to-TCG fallback of the boot."""
import csv
import stat
from pathlib import Path

import pytest

from measure import qemu_guest
from measure.guest_output import GuestOutputError, parse_serial
from measure.harness_output import HarnessOutputError
from measure.kernels import CAMPAIGNS, RAMDISK, guest_rows
from measure.provenance import COLUMNS
from measure.qemu_guest import GuestRun, boot
from measure.variants import REPO, VARIANTS

LOG = """\
SeaBIOS (version 1.16.2)
Booting from ROM..
=== study-guest begin release=6.12.117 crng_ready=1 cpu_model=QEMU_TCG_CPU_version_2.5+
=== study-run begin n=1 lru=classic cgroup=v2 swap_kib=0 args=selfcheck
TAP version 13
1..2
ok 1 vdso: resolved
not ok 2 droppable: reads back as zero
# 1 failed
=== study-run end n=1 rc=1
=== study-run begin n=2 lru=mglru cgroup=v2 swap_kib=131068 args=statemem --kinds vdso
Memory cgroup out of memory: Killed process 37 (vgetrandom-harn)
sample exp=statemem kind=vdso pages=4 vmlck_kib=0 mlocked_kib=16 unevictable_kib=16 \
child_kept_pages=0 child_vmlck_kib=0 child_mlocked_kib=16 limit_bytes=65536 \
pages_under_limit=80 errno_past_limit=none_within_bound
skip exp=statemem kind=mlock_inherit reason=EINVAL
# vmstat_delta: pgscan_file=12 pgsteal_file=0
=== study-run end n=2 rc=0
=== study-run begin n=3 lru=classic cgroup=v2 swap_kib=0 args=!study-swap zram 128
# study-swap: swap_kib=131068
=== study-run end n=3 rc=0
=== study-run begin n=4 lru=classic cgroup=v2 swap_kib=0 args=kselftest map_unevictable
TAP version 13
1..0 # SKIP MAP_UNEVICTABLE not supported
# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0
=== study-run end n=4 rc=4
=== study-guest end runs=4
reboot: Restarting system
""".replace("\\\n", "")


def test_parse_runs_records_taps_and_console():
    out = parse_serial(LOG)
    assert out.complete
    assert out.header == {"release": "6.12.117", "crng_ready": "1",
                          "cpu_model": "QEMU_TCG_CPU_version_2.5+"}
    assert [(r.n, r.args, r.rc) for r in out.runs] == [
        (1, "selfcheck", 1), (2, "statemem --kinds vdso", 0), (3, "!study-swap zram 128", 0),
        (4, "kselftest map_unevictable", 4)]
    assert out.runs[1].setup == {"lru": "mglru", "cgroup": "v2", "swap_kib": "131068"}
    assert [t.ok for t in out.runs[0].taps] == [True, False]
    sample, skip, counters = out.runs[1].records
    assert sample.fields["unevictable_kib"] == 16 and sample.fields["kind"] == "vdso"
    assert skip.kind == "skip" and skip.fields["reason"] == "EINVAL"
    assert (counters.kind, counters.exp) == ("diag", "vmstat_delta")
    assert counters.fields == {"pgscan_file": 12, "pgsteal_file": 0}
    assert out.runs[1].console == ["Memory cgroup out of memory: Killed process 37 "
                                   "(vgetrandom-harn)"]


def test_a_guest_that_died_mid_run_is_incomplete():
    cut = LOG.split("skip exp=statemem")[0]
    out = parse_serial(cut)
    assert not out.complete and out.runs[-1].rc is None


def test_malformed_harness_line_is_an_error_with_its_line():
    bad = LOG.replace("pages=4 ", "pages=4 junk ")
    with pytest.raises(HarnessOutputError, match=r"serial:13: bad field 'junk'"):
        parse_serial(bad)


@pytest.mark.parametrize("mangle, message", [
    (lambda s: s.replace("=== study-guest begin", "=== other"), "never reached /init"),
    (lambda s: s.replace("runs=4", "runs=5"), "guest says 5 runs, log has 4"),
    (lambda s: s.replace(" swap_kib=131068 args=", " args="), "run marker lacks swap_kib="),
    (lambda s: s.replace("=== study-run end n=1 rc=1\n", ""), "began inside run 1"),
    (lambda s: s.replace(" crng_ready=1", ""), "lacks crng_ready="),
])
def test_broken_framing_is_an_error(mangle, message):
    with pytest.raises(GuestOutputError, match=message):
        parse_serial(mangle(LOG))


def test_rows_carry_provenance_and_label_tcg_times():
    out = parse_serial(LOG)
    run = GuestRun("tcg", LOG, 0, False, 3.0, "qemu-system-x86_64 ...")
    rows = guest_rows(VARIANTS["exempt"], run, out, "6.12.117", "python -m measure.kernels")
    assert rows
    for row in rows:
        assert all(row[c] not in (None, "") for c in COLUMNS), row
        assert row["where"] == "tcg-guest" and row["timing"] == "tcg_not_a_cost"
        assert row["patch_hash"] == VARIANTS["exempt"].patch_hash()
    by = {(r["run"], r["metric"]): r["value"] for r in rows if r["record"] != "tap"}
    assert by[1, "rc"] == 1 and by[2, "console_lines"] == 1 and by[3, "rc"] == 0
    assert {r["exp"] for r in rows if r["run"] == 3} == {"setup", "study-swap"}
    assert by[2, "child_mlocked_kib"] == 16 and by[2, "reason"] == "EINVAL"
    assert by[2, "pgscan_file"] == 12 and by[3, "swap_kib"] == 131068
    # Every row says which reclaim setup its run ran under.
    assert {(r["run"], r["lru"], r["swap_kib"]) for r in rows} == {
        (1, "classic", "0"), (2, "mglru", "131068"), (3, "classic", "0"), (4, "classic", "0")}
    skipped = [r for r in rows if r["record"] == "tap" and r["run"] == 4]
    assert [(r["exp"], r["value"]) for r in skipped] == [("kselftest", "skip")]


@pytest.mark.parametrize("log", sorted((REPO / "data" / "guests").glob("*.serial.log")),
                         ids=lambda p: p.name)
def test_committed_guest_csv_matches_its_serial_log(log):
    """data/guests/<variant>.csv holds exactly what its serial log says."""
    out = parse_serial(log.read_text(), str(log))
    assert out.complete
    with open(log.with_name(log.name.replace(".serial.log", ".csv")), newline="") as f:
        rows = list(csv.DictReader(f))
    values = sum(len(rec.fields) for r in out.runs for rec in r.records)
    assert sum(r["record"] in ("sample", "skip", "diag") for r in rows) == values
    assert {r["kernel_release"] for r in rows} == {out.header["release"]}


# --- the boot's fallback, with a stand-in for QEMU --------------------------

FAKE_QEMU = """#!/bin/sh
# KVM: stay silent, as the guests on these machines do.  TCG: print, exit.
case " $* " in *" -accel kvm "*) sleep 30; exit 0 ;; esac
for a; do case $a in file:*) log=${a#file:} ;; esac; done
echo "=== study-guest begin release=x crng_ready=1 cpu_model=fake" >"$log"
"""


@pytest.fixture
def fake_qemu(tmp_path, monkeypatch):
    exe = tmp_path / "qemu"
    exe.write_text(FAKE_QEMU)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(qemu_guest, "QEMU", str(exe))
    return exe


def test_kvm_alone_is_bounded_by_the_timeout(fake_qemu):
    run = boot(Path("bzImage"), Path("initrd"), "console=ttyS0", accel="kvm", timeout_s=1)
    assert run.accelerator == "kvm" and run.timed_out and run.returncode is None


def test_silent_kvm_guest_falls_back_to_tcg(fake_qemu, monkeypatch):
    monkeypatch.setattr(qemu_guest, "kvm_usable", lambda: True)
    said = []
    run = boot(Path("bzImage"), Path("initrd"), "console=ttyS0", accel="auto",
               first_output_s=1, timeout_s=10, log=said.append)
    assert run.accelerator == "tcg" and not run.timed_out and run.returncode == 0
    assert "study-guest begin" in run.serial
    assert said == ["qemu: kvm guest failed (no console output in 1 s); falling back to tcg"]


def test_no_kvm_means_tcg_only(monkeypatch):
    monkeypatch.setattr(qemu_guest, "kvm_usable", lambda: False)
    assert qemu_guest.accelerators("auto") == ["tcg"]
    with pytest.raises(ValueError, match="accel"):
        qemu_guest.accelerators("hvf")


def test_summary_shows_the_keys_that_tell_designs_apart(tmp_path):
    from measure.kernels import summary_lines
    from measure.provenance import write_csv_atomic
    out = parse_serial(LOG)
    run = GuestRun("tcg", LOG, 0, False, 3.0, "qemu")
    path = tmp_path / "exempt.csv"
    write_csv_atomic(path, guest_rows(VARIANTS["exempt"], run, out, "6.12.117", "cmd"))
    assert summary_lines(path) == [
        "statemem  sample lru=mglru kind=vdso vmlck_kib=0 mlocked_kib=16 child_kept_pages=0 "
        "child_vmlck_kib=0 child_mlocked_kib=16 pages_under_limit=80 "
        "errno_past_limit=none_within_bound",
        "statemem  skip   lru=mglru kind=mlock_inherit reason=EINVAL",
    ]


# --- the run lists ----------------------------------------------------------

@pytest.mark.parametrize("name", VARIANTS)
def test_run_list_restores_the_default_setup(name):
    """Every run list checks the features first, runs the variant's own
    selftests, and leaves each setup change (MGLRU, swap) undone, so that
    the next run starts from the classic LRU without swap."""
    from measure.kernels import experiments
    runs = experiments(VARIANTS[name])
    assert runs[0] == "!study-features"
    for t in VARIANTS[name].selftests:
        assert f"kselftest {t}" in runs
    lru, swap = "classic", False
    for r in runs:
        if r.startswith("!study-lru "):
            lru = r.split()[1]
        elif r.startswith("!study-swap "):
            swap = r.split()[1] != "off"
    assert (lru, swap) == ("classic", False)
    # The fix's before and after: the same pressure sweep under both LRUs,
    # and the fix's selftest, which must also run where it should fail.
    before_after = name in ("baseline", "instrumentation", "fix")
    assert len([r for r in runs if "--hog-mib 52 " in r]) == (2 if before_after else 0)
    fix_test = "kselftest droppable" if name == "fix" else "kselftest droppable-0005"
    assert runs.count(fix_test) == (2 if before_after else 0)


# --- the campaigns of issue 13 ------------------------------------------------

def _opts(run: str) -> dict:
    words = run.split()
    return {w: words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("--")}


@pytest.mark.parametrize("name", sorted(CAMPAIGNS))
def test_campaign_run_lists_set_up_what_their_runs_use_and_undo_it(name):
    """A run that churns through the ramdisk comes after a ramdisk at least as
    large; a run with --swap on after swap was turned on; proactive reclaim
    has a memcg; and the guest ends as it began: classic LRU, no swap, no
    ramdisk."""
    campaign = CAMPAIGNS[name]
    assert campaign.variants and all(v in VARIANTS for v in campaign.variants)
    lru, swap_mib, ramdisk_mib = "classic", 0, 0
    for run in campaign.runs:
        words = run.split()
        if words[0] == "!study-lru":
            lru = words[1]
        elif words[0] == "!study-swap":
            swap_mib = 0 if words[1] == "off" else int(words[2])
        elif words[0] == "!study-ramdisk":
            ramdisk_mib = 0 if words[1] == "off" else int(words[1])
        elif words[0] == "states":
            opts = _opts(run)
            if opts.get("--churn-dev") == RAMDISK:
                assert 0 < int(opts["--churn-mib"]) <= ramdisk_mib, run
            assert (opts.get("--swap", "off") == "on") <= (swap_mib > 0), run
            if int(opts.get("--reclaim-mib", 0)):
                assert int(opts["--limit-mib"]) > 0, run
    assert (lru, swap_mib, ramdisk_mib) == ("classic", 0, 0)


def test_proactive_campaign_spans_the_rates_and_patterns_of_issue_13():
    runs = [_opts(r) for r in CAMPAIGNS["proactive"].runs if r.startswith("states ")]
    assert {r["--pattern"] for r in runs} == {"poisson", "periodic"}
    rates = {float(c.split(":")[0]) for r in runs for c in r["--classes"].split(",")}
    assert min(rates) == 0.05 and max(rates) == 1000
    assert {"baseline", "fix"} <= set(CAMPAIGNS["proactive"].variants)


def test_unknown_campaign_is_a_one_line_error(capsys):
    from measure.kernels import main
    assert main(["summary", "--campaign", "nope"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: unknown campaign 'nope' (known: proactive, lru, global, swap, damon, exempt)")
