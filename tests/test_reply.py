"""The reply to Ingo and the bug report: their numbers against the data.

One 'quick' study on the committed data/ is run for the module (about 20 s).
Every number of the reply must be a Fact made by model.reply, and the Facts
are recomputed here from the CSVs by code of this file, not the module's.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model import bugreport, questions, reply
from model.datafiles import DATA, REPO, Sources

NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:e-?\d+)?(?![\w])")


@pytest.fixture(scope="module")
def study():
    return questions.run("quick", progress=None)


@pytest.fixture(scope="module")
def built(study):
    r = reply.build(study)
    return r, r.render()


def answer_lines(text: str) -> list:
    return [line for line in text.splitlines() if not line.startswith(">")]


def test_reply_fits_the_list(built):
    _, text = built
    lines = text.splitlines()
    assert max(map(len, lines)) <= reply.COLUMNS
    assert len(lines) <= reply.MAX_LINES
    # Attribution, then a quote: no top-posting; every answer follows a quote.
    assert lines[0].startswith("On ") and reply.MESSAGE_ID in lines[0]
    first = next(line for line in lines[1:] if line.strip())
    assert first.startswith("> ")
    mail = " ".join(line for line in reply.MAIL.read_text().splitlines()
                    if not line.startswith("#"))
    quotes, current = [], []
    for line in lines + [""]:
        if line.startswith("> "):
            current.append(line[2:])
        elif current:
            quotes.append(" ".join(current))
            current = []
    assert len(quotes) >= 7
    for q in quotes:
        assert " ".join(q.split()) in " ".join(mail.split()), q


def test_every_number_is_a_fact(built):
    """Prose typed in model/reply.py holds no number of its own."""
    r, text = built
    allowed = {}
    for fact in r.facts:
        for token in NUMBER.findall(fact.text):
            allowed[token] = allowed.get(token, 0) + 1
    for line in answer_lines(text):
        for token in NUMBER.findall(line):
            assert token in allowed, f"{token!r} typed by hand in: {line}"


def test_facts_print_their_values(built):
    r, _ = built
    for fact in r.facts:
        if fact.what == "source" or not isinstance(fact.value, (int, float, np.number)):
            continue
        printed = float(fact.text.replace(",", ""))
        value = float(fact.value)
        assert math.isclose(printed, value, rel_tol=0.06, abs_tol=0.006), fact


def facts(r, what: str) -> list:
    return [float(f.value) for f in r.facts if f.what == what]


def test_complexity_against_the_csv(built):
    r, _ = built
    rows = pd.read_csv(DATA / "complexity.csv")
    own = {"droppable": "MAP_DROPPABLE v23", "mlock-inherit": "0002", "exempt": "0003",
           "droppable-fixed": ("0004", "0005")}
    for design, prefix in own.items():
        mine = rows[rows["item"].str.startswith(prefix)]
        for metric in ("lines_added_kernel", "selftest_lines", "arches_touched",
                       "special_cases_fault_reclaim", "special_cases_other"):
            expected = pd.to_numeric(mine[mine["metric"] == metric]["value"]).sum()
            for value in facts(r, f"{design}.{metric}"):
                assert value == expected, (design, metric)
    assert facts(r, "droppable.fix_post_merge") == [
        float((rows["metric"].eq("fix_post_merge") & rows["design"].eq("droppable")).sum())]


def test_states_against_the_csv(built):
    """P per regime and rate: the mean over runs of each run's dropped/lives."""
    r, text = built
    states = pd.read_csv(DATA / "host" / "states.csv")
    states = states[(states["pattern"] == "poisson") & (states["layout"] == "grouped")]
    checked = 0
    for (regime, rate), g in states.groupby(["regime", "rate_hz"]):
        per_run = g.groupby("run")[["key_lives", "key_lives_dropped"]].sum()
        p = (per_run["key_lives_dropped"] / per_run["key_lives"]).to_numpy()
        half = stats.t.ppf(0.975, len(p) - 1) * p.std(ddof=1) / math.sqrt(len(p)) \
            if len(p) > 1 else 0.0
        for value in facts(r, f"states.{regime}.{rate:g}.p"):
            assert math.isclose(value, p.mean(), abs_tol=1e-9)
            checked += 1
        for value in facts(r, f"states.{regime}.{rate:g}.ci"):
            assert math.isclose(value, half, abs_tol=1e-9)
    assert checked >= 4
    # Pressure runs only: a hog alone (hog_alone) never reached the limit.
    busy = states[(states["rate_hz"] >= 10) & ~states["regime"].isin(["control", "hog_alone"])]
    assert facts(r, "states.busy.key_lives") == [float(busy["key_lives"].sum())]
    assert facts(r, "states.busy.lost") == [float(busy["key_lives_dropped"].sum())]
    runs = busy.groupby("run")["key_lives_dropped"].sum()
    assert facts(r, "states.busy.runs") == [float(len(runs))]
    # The idle class over the same pressure runs: each run's dropped / lives.
    idle = states[(states["rate_hz"] == states["rate_hz"].min())
                  & ~states["regime"].isin(["control", "hog_alone"])]
    per_run = idle.groupby("run")[["key_lives", "key_lives_dropped"]].sum()
    p = per_run["key_lives_dropped"] / per_run["key_lives"]
    assert facts(r, "states.idle.runs") == [float(len(p))]
    [mean] = facts(r, "states.idle.p")
    assert math.isclose(mean, p.mean(), abs_tol=1e-9)
    # Nothing dropped in any run: the bound is Clopper-Pearson's 0 of n.
    if not (runs > 0).any():
        [bound] = facts(r, "states.busy.upper95")
        assert math.isclose(bound, 1 - 0.05 ** (1 / len(runs)), rel_tol=1e-9)


def test_busy_drops_over_every_states_test(built):
    """Runs under pressure of every data/host/states*.csv with calls, and
    those whose classes of 10 Hz or more found a state zeroed; a run of
    syscall classes (a twin) has no state and no place in either."""
    r, text = built
    runs = dropped = 0
    for path in sorted((DATA / "host").glob("states*.csv")):
        frame = pd.read_csv(path)
        if "calls_zeroed" not in frame:
            continue        # the LRU traces
        twins = frame.loc[frame["classes"].str.contains(":syscall"), "run"]
        frame = frame[~frame["run"].isin(twins)
                      & ~frame["regime"].isin(["control", "hog_alone"])]
        zeroed = frame[frame["rate_hz"] >= 10].groupby("run")["calls_zeroed"].sum()
        runs += len(zeroed)
        dropped += int((zeroed > 0).sum())
    assert runs > 0
    assert facts(r, "busy.pressure_runs") == [float(runs)]
    assert facts(r, "busy.dropped_runs") == [float(dropped)]
    flat = " ".join(text.split())
    assert f"{dropped} of {runs:,} pressure runs dropped a busy page" in flat


def test_placement_numbers_against_the_csv(built):
    """The timer-locked 1 Hz page's zeroed calls per pinned arm."""
    r, _ = built
    test = pd.read_csv(DATA / "host" / "states_placement.csv")
    slow = test[(test["pattern"] == "periodic") & (test["rate_hz"] == 1.0)]
    for arm in ("same", "split"):
        g = slow[slow["placement"] == arm]
        assert facts(r, f"placement.{arm}.zeroed") == [float(g["calls_zeroed"].sum())]
        assert facts(r, f"placement.{arm}.calls") == [float(g["calls"].sum())]
    free = pd.read_csv(DATA / "host" / "states_reader.csv")
    free = free[(free["pattern"] == "periodic") & (free["rate_hz"] == 1.0)]
    assert facts(r, "reader.zeroed") == [float(free["calls_zeroed"].sum())]
    assert facts(r, "reader.calls") == [float(free["calls"].sum())]


def test_simulated_numbers_against_the_answers(built, study):
    r, _ = built
    claim = study.answers["Q3"].simulated["claim"]
    assert facts(r, "q3.levels") == [float(len(claim))]
    above = claim[claim["p_mean"] > questions.KEY_LIFE_CLAIM]
    if len(above):
        worst = above.loc[above["p_mean"].idxmax()]
        assert facts(r, "q3.p_max") == [worst["p_mean"]]
        assert facts(r, "q3.p_max_low") == [worst["p_low"]]
        assert facts(r, "q3.p_max_high") == [worst["p_high"]]
    quiet = claim[claim["units_dropped"] == 0]
    if len(quiet):
        assert facts(r, "q3.upper95_max") == [quiet["p_upper95"].max()]
    q1 = study.answers["Q1"].values
    assert facts(r, "q1.syscall_4b_ns") == [q1["syscall_4b_ns"]]
    benefit = study.answers["Q5"].simulated["benefit"]
    vdso = benefit[benefit["design"] != "syscall"]
    for column, what in (("cpu_saved_fraction", "cpu_saved_pct"),
                         ("cpu_saved_fraction_b2b", "cpu_saved_b2b_pct")):
        assert facts(r, f"q5.{what}_min") == [vdso[column].min() * 100]
        assert facts(r, f"q5.{what}_max") == [vdso[column].max() * 100]


def test_idle_call_numbers_against_the_csv(built):
    """A thread calling alone after the longest sleep: the means of
    idlecall.csv's vDSO-alone and syscall-alone rows without spinners at
    the longest gap where every mode was timed alone, every vDSO call
    (reseeds too), each the mean of its processes' means (a process a
    command and its start), read here from the CSV: the model's own machine's
    (data/host/) where it has them, else the Xeon's."""
    def over_processes(calls: pd.DataFrame) -> pd.Series:
        return calls.groupby(["mode", "date_utc", "command"])["ns_per_call"].mean() \
            .groupby(level=0).mean()

    for path in (DATA / "host" / "idlecall.csv", DATA / "xeon" / "host" / "idlecall.csv"):
        if not path.exists():
            continue
        rows = pd.read_csv(path)
        # A lone thread: no companion threads, its call not timed after a
        # read nor waking to a deadline, in the process's main thread.
        for column, alone in (("companion", "none"), ("read_first", 0), ("abs_sleep", 0),
                              ("thread", 0)):
            if column in rows:
                rows = rows[rows[column].fillna(alone) == alone]
        rows = rows[(rows["spin"] == 0) & (rows["modes"] == rows["mode"])]
        modes = rows.groupby("gap_ms")["mode"].nunique()
        if (modes == 3).any():
            break
    else:
        pytest.skip("no idlecall.csv under data/ with every mode timed alone")
    r, text = built
    rows = rows[rows["gap_ms"] == modes[modes == 3].index.max()]
    mean = over_processes(rows)
    assert (rows["rng_moved"] == 1).any()       # the reseeds are in the mean
    assert facts(r, "idle.gap_s") == [rows["gap_ms"].max() / 1000]
    assert facts(r, "idle.saved_pct") == [pytest.approx(100 * (1 - mean["vdso"] /
                                                               mean["syscall"]))]
    assert str(path.relative_to(REPO)) in text
    # The same gap in a busy process (idlecall --companion, each way's own
    # companions): the vDSO's mean against the syscall's, where timed; timed
    # in a function of its own where idlecall_code.csv or idlecall_curves.csv
    # beside it has that, their processes together (--call-code own:
    # idlecall.csv's inline timing made the vDSO's price the harness
    # build's), else as idlecall.csv timed it.
    every = pd.read_csv(path)
    coded = [p for p in (path.parent / "idlecall_code.csv",
                         path.parent / "idlecall_curves.csv") if p.exists()]
    in_function = pd.concat(map(pd.read_csv, coded), ignore_index=True) if coded \
        else every.iloc[:0]
    in_function = in_function[in_function.get("call_code", pd.Series(dtype=str)) == "own"]
    if "companion" in every:
        def busy_at(calls):
            return calls[(calls["companion"].fillna("none").isin(["vdso:1000:28",
                                                                  "syscall:1000:28"]))
                         & (calls["read_first"].fillna(0) == 0)
                         & (calls.get("thread", pd.Series(0, calls.index)).fillna(0) == 0)
                         & (calls["modes"] == calls["mode"])
                         & (calls["gap_ms"] == rows["gap_ms"].max())]
        busy = busy_at(in_function) if len(in_function) else every.iloc[:0]
        if set(busy["mode"]) != {"vdso", "syscall"}:
            busy = busy_at(every)
        else:
            assert all(p.name in text for p in coded)
        if set(busy["mode"]) == {"vdso", "syscall"}:
            mean = over_processes(busy)
            assert facts(r, "idle.busy_vdso_per_syscall") == [
                pytest.approx(mean["vdso"] / mean["syscall"])]


def test_busy_loop_cost_against_the_csv(built):
    """The states loop timed both ways (states_quiet.csv): the rarest class
    of a class set with a 1000 Hz class, its vDSO runs' median mean call
    per its syscall twin's, read here from the CSV (no call found its
    state zeroed there and no reseed was counted apart, so a row's warm
    mean is its mean over every call)."""
    path = DATA / "host" / "states_quiet.csv"
    if not path.exists():
        pytest.skip("no states_quiet.csv")
    rows = pd.read_csv(path)
    rows = rows[rows["classes"].str.startswith("1000:") & (rows["rate_hz"] < 1000)]
    rows = rows[rows["rate_hz"] == rows["rate_hz"].min()]
    assert (rows["kernel_reseeds"] == 0).all() and (rows["calls_zeroed"] == 0).all()
    way = rows["call"].fillna("vdso")
    vdso = rows.loc[way == "vdso", "warm_call_ns_mean"].median()
    syscall = rows.loc[way == "syscall", "warm_call_ns_mean"].median()
    r, text = built
    assert facts(r, "loop.busy_vdso_per_syscall") == [pytest.approx(vdso / syscall)]
    assert "states_quiet.csv" in text


def test_guest_numbers_against_the_csv(built):
    r, _ = built
    # The guests' states campaigns: the proactive row sums both kernels'
    # busy (>= 10 Hz) Poisson classes, read here from the CSVs directly.
    lost = lives = 0.0
    for variant in ("proactive-baseline", "proactive-fix"):
        path = DATA / "guests" / f"{variant}.csv"
        if not path.exists():
            continue
        g = pd.read_csv(path, low_memory=False)
        g = g[(g["record"] == "sample") & (g["exp"] == "states")]
        wide = g.pivot_table(index=["run", "line"], columns="metric", values="value",
                             aggfunc="first")
        wide = wide[(pd.to_numeric(wide["reclaim_mib"]) > 0)
                    & (pd.to_numeric(wide["churn_file_mib"]) == 0)
                    & (wide["pattern"] == "poisson") & (pd.to_numeric(wide["rate_hz"]) >= 10)]
        lost += pd.to_numeric(wide["key_lives_dropped"]).sum()
        lives += pd.to_numeric(wide["key_lives"]).sum()
    if lives:
        assert facts(r, "guest.proactive.>=10Hz.lost") == [lost]
        assert facts(r, "guest.proactive.>=10Hz.lives") == [lives]
    budget = pd.read_csv(DATA / "guests" / "exempt.csv", low_memory=False)
    budget = budget[budget["exp"] == "map_unevictable_budget"]
    assert facts(r, "exempt.budget_pages") == \
        budget[budget["metric"] == "pages"]["value"].astype(float).tolist()


def test_absent_regimes_are_not_measured_yet_until_rows_land(tmp_path):
    """A guest file with states rows under zram swap takes 'zram swap' off
    the list of regimes not measured yet; nothing else needs to change."""
    sources = Sources(DATA)
    states = reply.state_rows(sources, reply.guest_frames(sources))
    assert "zram swap" in reply.missing_regimes(states) or \
        (states["swap_kib"] > 0).any()
    (tmp_path / "guests").mkdir()
    rows = []
    for metric, value in (("regime", "churn"), ("rate_hz", 0.05), ("key_lives", 10),
                          ("key_lives_dropped", 3), ("calls", 100), ("calls_zeroed", 3)):
        rows.append({"where": "tcg-guest", "kernel_release": "6.12.117", "run": 1,
                     "args": "states", "record": "sample", "exp": "states", "line": 1,
                     "metric": metric, "value": value, "lru": "mglru", "cgroup": "v2",
                     "swap_kib": 131068})
    pd.DataFrame(rows).to_csv(tmp_path / "guests" / "zram.csv", index=False)
    fake = Sources(tmp_path)
    states = reply.state_rows(fake, reply.guest_frames(fake))
    missing = reply.missing_regimes(states)
    assert "zram swap" not in missing and "MGLRU" not in missing
    assert "proactive reclaim" in missing
    r = reply.Reply()
    reply.tested_answer(r, states, {})
    assert any(line.strip().startswith("zram/mglru/zram") for line in r.lines)
    assert max(map(len, r.lines)) <= reply.COLUMNS


def test_bug_report_numbers_from_the_guests():
    text = bugreport.build(Sources(DATA))
    for line in text.splitlines():
        if not line.startswith(("+", "-", " ", "@")) and "vgetrandom-harness" not in line:
            assert len(line) <= 72, line
    # Independently: the fix's run at a 52 MiB hog, two-list LRU.
    fix = pd.read_csv(DATA / "guests" / "fix.csv", low_memory=False)
    run = fix[(fix["args"].str.contains("--hog-mib 52 ")) & (fix["lru"] == "classic")
              & fix["args"].str.contains("--limit-mib 64 ")]["run"].iloc[0]
    dropped = fix[(fix["run"] == run) & (fix["metric"] == "dropped_pages")]["value"]
    row = next(line for line in text.splitlines() if line.strip().startswith("52 "))
    assert f"{int(dropped.iloc[0])}/{int(dropped.iloc[0])}" in row
    assert f"sweep runs" in text and str(run) in text.split("guest, after:")[1]
    # The hunk quoted is the hunk of the patch.
    patch = next((REPO / "kernel-patches" / "patches").glob("0004-*.patch")).read_text()
    hunk = text.split("--- a/mm/vmscan.c", 1)[1].split("\n\nWhere the numbers")[0]
    for line in hunk.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            assert line in patch, line
    assert "{" not in text.replace("{\n", "") or "{{" not in text


def test_bug_report_without_guest_data_says_so(tmp_path):
    text = bugreport.build(Sources(tmp_path))
    assert "absent" in text and "data/guests/instrumentation.csv" in text


def test_reply_without_data_says_what_is_missing(tmp_path):
    """No data/ but the host's call costs: every answer says what is absent,
    and no conclusion is drawn."""
    from test_report import TEST_WHAT_IF, TINY, fixture_callcost
    fixture_callcost(tmp_path / "host" / "callcost.csv")
    st = questions.run(TINY, progress=None, data_dir=tmp_path, what_if=TEST_WHAT_IF)
    r = reply.build(st)
    text = r.render()
    reply.check(text)
    assert "data/complexity.csv is absent" in text
    assert "no states rows" in text
    flat = " ".join(text.split())       # the words, wherever the lines wrap them
    assert "draws no conclusion" in flat and "next step" not in flat
