"""The onset check (model/onset.py): exp(-R T) against the kernel's runs."""
import numpy as np
import pandas as pd
from scipy import stats

from model import onset, validate

PROVENANCE = {"where": "host", "kernel_release": "6.18.0-test", "variant": "none",
              "cpu_model": "test cpu", "glibc": "glibc 2.36", "date_utc": "2026-12-03T00:00:00Z",
              "git_commit": "0" * 40, "command": "synthetic"}


def _pages(x: np.ndarray, lost: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"r_hz": x, "t_s": 1.0, "lost": lost.astype(int), "p": np.exp(-x)})


def test_factor_fit_recovers_the_factor_that_made_the_losses():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 3.0, 3000)
    for factor in (0.5, 1.0, 1.5):
        lost = rng.random(x.size) < np.exp(-factor * x)
        f, low, high = onset.factor_fit(_pages(x, lost))
        assert low <= factor <= high and high - low < 0.3, (factor, f, low, high)


def test_tail_is_the_binomial_tail_when_every_page_has_one_p():
    p = np.full(40, 0.4)
    for k in (0, 10, 16, 21, 40):
        assert np.isclose(onset.tail_at_least(p, k), stats.binom.sf(k - 1, 40, 0.4))


def _run(**over):
    row = {**PROVENANCE, "regime": "churn_384", "run": 0, "pattern": "poisson",
           "classes": "0.05:28", "layout": "grouped", "per_page": 28, "states_per_page": 28,
           "class_pages": 1, "rate_hz": 0.05, "threads": 28, "calls_zeroed": 0, "hog_mib": 0,
           "spike_mib": 0, "churn_bytes_per_s": 384 << 20, "inactive_file_mean_kib": 256 << 10,
           "settle_s": 10, "limit_bytes": 256 << 20, "caller_usage_bytes": 4 << 20}
    return row | over


def test_onset_pages_takes_poisson_churn_pages_alone_and_computes_exp_minus_rt():
    frame = pd.DataFrame([
        _run(calls_zeroed=3),
        _run(pattern="periodic"), _run(hog_mib=192), _run(spike_mib=200),
        _run(per_page=1), _run(placement="split"),
        _run(rate_hz=1000.0),                        # never lost by the formula: left out
    ])
    pages = onset.onset_pages(frame)
    assert len(pages) == 1
    page = pages.iloc[0]
    assert np.isclose(page["t_s"], (256 << 20) / (384 << 20))
    assert np.isclose(page["p"], np.exp(-1.4 * page["t_s"]))
    assert page["lost"] == 1
    # The settle leaves 10 - 252/384 - 256/384 s before the window: every
    # one of 28 threads at 0.05 Hz would have to call in it to hide the loss.
    assert np.isclose(page["gap_s"], 10 - (252 + 256) / 384)
    assert np.isclose(page["seen"], 1 - (1 - np.exp(-0.05 * page["gap_s"])) ** 28)
    assert page["seen"] > 1 - 1e-9


def test_an_onset_loss_its_threads_reseed_in_the_settle_is_not_counted():
    """A 1 Hz page at fast churn is lost at the onset with exp(-28 T) = 0.05,
    but its 28 threads all call again before the window opens: the window
    sees that loss with P 28 e^-9.7, and the page says nothing."""
    fast = {"churn_bytes_per_s": 2304 << 20, "inactive_file_mean_kib": 251 << 10}
    both = onset.onset_pages(pd.DataFrame([_run(**fast), _run(rate_hz=1.0, **fast)]))
    assert list(both["rate_hz"]) == [0.05]
    late = onset.onset_pages(pd.DataFrame([_run(rate_hz=1.0, settle_s=0, **fast)]))
    assert len(late) == 1 and late.iloc[0]["seen"] == 1.0      # lost in the window: seen
    assert np.isclose(late.iloc[0]["p"], np.exp(-28 * (251 / 2304)))


def test_factor_fit_weighs_each_loss_by_its_chance_to_be_seen():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 3.0, 4000)
    seen = np.where(rng.random(x.size) < 0.5, 1.0, 0.3)
    lost = rng.random(x.size) < seen * np.exp(-x)
    pages = _pages(x, lost).assign(seen=seen)
    f, low, high = onset.factor_fit(pages)
    assert low <= 1.0 <= high, (f, low, high)
    blind, _, _ = onset.factor_fit(pages.drop(columns="seen"))
    assert blind > high                     # unseen losses read as a larger factor


def test_onset_note_compares_each_test_and_the_tlb_flush_arms(tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    rows = [_run(run=r, calls_zeroed=14 * (r % 2)) for r in range(10)]
    # a syscall twin's page, never found zeroed (it has no state): no onset page
    rows += [_run(run=10, classes="0.05:28:syscall")]
    pd.DataFrame(rows).to_csv(host / "states_churn.csv", index=False)
    tlb = [_run(run=r, tlb_flush_ms=10 * (r % 2), calls_zeroed=14 * (r % 3 == 0))
           for r in range(8) for _ in range(3)]
    pd.DataFrame(tlb).to_csv(host / "states_tlbflush.csv", index=False)
    lines = onset.onset_note(("states_churn.csv", "states_tlbflush.csv"), tmp_path)
    assert any("states_churn.csv churn_384 0.05 Hz (10 runs" in l and "lost 5 of 10" in l
               for l in lines)
    assert any("states_tlbflush.csv churn_384 0.05 Hz (4 runs" in l for l in lines)
    assert any("states_tlbflush.csv churn_384 TLB flushed every 10 ms 0.05 Hz (4 runs" in l
               for l in lines)
    assert any(l.startswith("  pooled: lost 14 of 34 ") for l in lines)
    # the churn runs' 5 of 10 and runs 0 and 6's 6 of the 12 unflushed TLB
    # pages; run 3's 3 of the 12 flushed
    assert any(l.startswith("  pooled, TLB never flushed: lost 11 of 22 ") for l in lines)
    assert any(l.startswith("  pooled, TLB flushed: lost 3 of 12 ") for l in lines)
    arms = [l for l in lines if "Mann-Whitney" in l]
    assert len(arms) == 1 and arms[0].startswith("  states_tlbflush.csv:")


def test_the_committed_runs_hold_the_formula_pooled():
    """The kernel's churn runs, pooled, lose an idle page as exp(-R T) says:
    the fitted factor's interval holds 1 (the model's own skeleton)."""
    pages = onset.read_onset_pages(validate.STATES_FILES)
    s = onset.summary(pages)
    assert s["pages"] >= 300
    assert s["factor_low"] <= 1.0 <= s["factor_high"]


def test_the_check_runs_alone_from_the_command_line():
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "-m", "model.onset"], capture_output=True, text=True,
                       check=True)
    lines = p.stdout.splitlines()
    assert lines[0].startswith("Onset check, no model:")
    assert sum(l.startswith("  pooled: lost ") for l in lines) == 1
