"""The reply to Ingo Molnar's mail, written from the study's frames.

    python -m model report      (writes results/reply.txt beside the report)

Plain text for linux-mm: 72 columns, his points quoted one by one
(docs/ingo-vm-droppable.txt holds his text and its Message-ID) and each
answered below its quote, no top-posting.  Every number is a Fact: made
here from a frame (the Answers of model.questions, data/host/*.csv,
data/guests/*.csv, data/complexity.csv) and followed by where it comes
from and its scope.  Prose typed here holds no digits, which
tests/test_reply.py checks along with every Fact against the frames.

Regimes whose rows are not in data/ yet (real states under proactive
reclaim, global pressure, zram swap, MGLRU) are said to be "not measured
yet"; the rows are picked up by their columns as soon as a campaign
writes them.
"""
from __future__ import annotations

import math
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import atomic, calibration, hostcosts, replicate, replicated
from .datafiles import REPO, Sources, rel_path
from .guestdata import guest_frames, guest_wide, partly_over, pressure, release, sweep
from .questions import KEY_LIFE_CLAIM, X86_SKIP
from .validate import STATES_FILES

REPLY = Path("results") / "reply.txt"
MESSAGE_ID = "Y7QIg/hAIk7eZE42@gmail.com"
MAIL = REPO / "docs" / "ingo-vm-droppable.txt"
COLUMNS = 72
MAX_LINES = 110          # "at most about 100"

# What a host row is measured under: data/host/README.md (the `states`
# campaign: "a 256 MiB memcg (v1, no swap)"; the host runs no MGLRU).
HOST_LRU, HOST_CGROUP, HOST_SWAP_KIB = "classic", "v1", 0
# Citations, not data: the reply prints them as they are.
FEDORA_ZRAM = ("Fedora", "33", "https://fedoraproject.org/wiki/Changes/SwapOnZRAM")
# The host's regimes whose memcg did not reach its limit: no pressure (the
# hog alone, 240 MiB, never did: failcnt 0; README, "Real vDSO states").
UNPRESSED = ("control", "hog_alone")
# A busy state's threads call this often or more (the README's busy pages);
# not calibration.BUSY_HZ, the 1,000 Hz class whose calls the prices take.
BUSY_STATE_HZ = 10
# The regimes the argument turns on, by how their rows show in data/.
REGIMES = (("proactive reclaim", lambda r: r["regime"].str.contains("proactive|reclaim|damon")
             | (r["reclaim_mib"] > 0) | (r["damon"] != "none")),
           ("global pressure", lambda r: r["scope"] == "global"),
           ("zram swap", lambda r: (r["swap_kib"] > 0) | r["regime"].str.contains("zram")),
           ("MGLRU", lambda r: r["lru"] == "mglru"))


@dataclass
class Fact:
    text: str            # as printed
    value: object        # what it was made from
    what: str            # a name tests/test_reply.py checks it by


@dataclass
class Reply:
    lines: list = field(default_factory=list)
    facts: list = field(default_factory=list)

    def n(self, value, what: str, fmt: str = "{:,.0f}") -> str:
        text = fmt.format(value)
        self.facts.append(Fact(text, value, what))
        return text

    def src(self, text: str) -> str:
        """A source or scope string: file names, kernel releases, run numbers."""
        self.facts.append(Fact(text, text, "source"))
        return text

    def quote(self, fragment: str) -> None:
        """Ingo's words, checked against the mail, wrapped as '> ' lines."""
        mail = " ".join(l.strip() for l in MAIL.read_text().splitlines()
                        if not l.startswith("#"))
        if " ".join(fragment.split()) not in " ".join(mail.split()):
            raise ValueError(f"{MAIL.name}: not in the mail: {fragment[:40]!r}")
        self.lines += ["", *textwrap.wrap(fragment, COLUMNS, initial_indent="> ",
                                          subsequent_indent="> "), ""]

    def para(self, *sentences: str) -> None:
        self.lines += textwrap.wrap(" ".join(sentences), COLUMNS, break_on_hyphens=False,
                                    break_long_words=False)

    def cite(self, text: str) -> None:
        self.lines += textwrap.wrap(f"[{text}]", COLUMNS, break_on_hyphens=False,
                                    break_long_words=False)

    def table(self, rows: list) -> None:
        self.lines += rows

    def render(self) -> str:
        return "\n".join(self.lines).strip("\n") + "\n"


# -- frames ------------------------------------------------------------------

def idle_costs(sources: Sources) -> tuple[hostcosts.Alone, tuple | None, str] | None:
    """A thread calling alone once every longest sleep, the same thread in a
    busy process ((gap_ms, vdso Mean, syscall Mean) at that gap: timed in a
    function of its own where the machine's idlecall_code.csv or
    idlecall_curves.csv has it, their processes together,
    hostcosts.busy_in_function(), as idlecall.csv's inline timing made the
    vDSO's busy price the harness build's; else Idle.busy_by_gap; None
    where not timed so), and their files, from the first machine under
    data/ that measured it (hostcosts.measured_dirs)."""
    for where in hostcosts.measured_dirs(sources.data_dir):
        path = hostcosts.idle_path(where)
        if path.exists():
            rows = sources.read(str(path.relative_to(sources.data_dir)),
                                calibration.COLUMNS["idlecall.csv"])
            idle = hostcosts.longest_sleep(rows, rel_path(path))
            if idle is not None and idle.alone is not None:
                gap = idle.alone.gap_ms
                coded = [where / "host" / name for name in (hostcosts.IDLE_CODE,
                                                            calibration.CURVES_FILE)
                         if (where / "host" / name).exists()]
                if coded and (busy := hostcosts.busy_in_function(pd.concat(
                        [sources.read(str(p.relative_to(sources.data_dir)),
                                      calibration.COLUMNS["idlecall.csv"]) for p in coded],
                        ignore_index=True), gap)):
                    return idle.alone, busy, ", ".join([rel_path(path)]
                                                       + [p.name for p in coded])
                busy = [b for b in idle.busy_by_gap if b[0] == gap]
                return idle.alone, (busy[0] if busy else None), rel_path(path)
    return None


def loop_busy_cost(twins: pd.DataFrame | None) -> tuple[float, str] | None:
    """The states loop timed both ways (Q5's measured states_loop,
    hostcosts.loop_twins): its rarest class beside a busy one (a class
    calling calibration.BUSY_HZ or more), what its vDSO call costs per
    syscall, and the file's name; None where not timed so."""
    if twins is None:
        return None
    busy = twins["classes"].map(lambda classes: any(
        float(c.split(":")[0]) >= calibration.BUSY_HZ for c in classes.split(",")))
    rare = twins[busy & (twins["rate_hz"] < calibration.BUSY_HZ)]
    if rare.empty:
        return None
    rarest = rare.loc[rare["rate_hz"].idxmin()]
    return rarest["vdso_ns"] / rarest["syscall_ns"], hostcosts.STATES_QUIET


def state_rows(sources: Sources, guests: dict) -> pd.DataFrame:
    """Real vDSO states under pressure, one row per class of threads per run,
    from data/host/states.csv and any guest run of the harness's `states`."""
    parts = []
    host = sources.read("host/states.csv", ("regime", "run", "rate_hz", "key_lives",
                                            "key_lives_dropped"))
    if host is not None:
        host = host.assign(origin="data/host/states.csv", unit=host["run"].astype(str))
        for column, value in (("lru", HOST_LRU), ("cgroup", HOST_CGROUP),
                              ("swap_kib", HOST_SWAP_KIB)):
            if column not in host:
                host[column] = value
        parts.append(host)
    for variant, frame in guests.items():
        wide = guest_wide(frame, "states")
        if wide.empty or not {"key_lives", "key_lives_dropped", "rate_hz"} <= set(wide):
            continue
        wide = wide.assign(origin=f"data/guests/{variant}.csv",
                           unit=variant + ":" + wide["run"].astype(str))
        parts.append(wide)
    if not parts:
        return pd.DataFrame()
    rows = pd.concat(parts, ignore_index=True)
    for column, default in (("regime", "unnamed"), ("scope", "memcg"), ("pattern", "poisson"),
                            ("layout", "grouped"), ("lru", "classic"), ("swap_kib", 0),
                            ("reclaim_mib", 0), ("damon", "none"), ("churn_file_mib", 0),
                            ("hog_mib", 0)):
        if column not in rows:
            rows[column] = default
        rows[column] = rows[column].fillna(default)
    rows["regime"] = rows["regime"].astype(str)
    for column in ("swap_kib", "reclaim_mib", "churn_file_mib", "hog_mib", "rate_hz",
                   "key_lives", "key_lives_dropped"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").fillna(0)
    return rows


def missing_regimes(states: pd.DataFrame) -> list:
    """The REGIMES no states row covers yet."""
    return [name for name, covers in REGIMES if states.empty or not covers(states).any()]


def p_by_run(rows: pd.DataFrame):
    """P(a key life dropped): per independent run, then mean and t-interval."""
    per_run = rows.groupby("unit")[["key_lives", "key_lives_dropped"]].sum()
    per_run = per_run[per_run["key_lives"] > 0]
    return replicated.summarize(per_run["key_lives_dropped"] / per_run["key_lives"])


# -- the answers ---------------------------------------------------------------

def complexity_answer(r: Reply, q5) -> None:
    r.quote("Yeah, so VM_DROPPABLE adds a whole lot of complexity, corner cases, per "
            "arch low level work")
    comp = q5.measured.get("complexity")
    if comp is None:
        r.para("Not counted: data/complexity.csv is absent.")
        return
    c = comp.set_index("design")

    def cost(design: str) -> str:
        row = c.loc[design]
        return (f"{r.n(row['lines_added_kernel'], f'{design}.lines_added_kernel')} kernel "
                f"lines (+{r.n(row['selftest_lines'], f'{design}.selftest_lines')} "
                f"selftest), {r.n(row['arches_touched'], f'{design}.arches_touched')} "
                f"arches, {r.n(row['new_vm_flags'], f'{design}.new_vm_flags')} VM flag, "
                f"{r.n(row['special_cases_fault_reclaim'], f'{design}.special_cases_fault_reclaim')}"
                f"+{r.n(row['special_cases_other'], f'{design}.special_cases_other')} "
                "special cases")
    rows = q5.measured["complexity_rows"]
    skip = rows[rows["item"].astype(str).str.startswith(X86_SKIP)]
    arch = skip.set_index("metric")["value"] if len(skip) else None
    r.para("Counted alike (special cases: branches on the design's flags, in "
           "fault/reclaim + other code), MAP_DROPPABLE as merged "
           f"adds {cost('droppable')}.",
           (f"Its x86 instruction skip "
            f"({r.n(float(arch['lines_added_total']), 'x86skip.lines_added_total')} lines) "
            "was never merged; a droppable fault is retried." if arch is not None
            else ""),
           f"This study's unreviewed alternatives: MLOCK_INHERIT "
           f"{cost('mlock-inherit')}; a budget of permanent vDSO pages {cost('exempt')} "
           f"[{r.src('data/complexity.csv; patches 0002, 0003')}].")


def tested_answer(r: Reply, states: pd.DataFrame, guests: dict) -> None:
    r.quote("and rarely tested functionality")
    if states.empty:
        r.para("Not measured: no states rows in data/host/states.csv or data/guests/.")
        return
    host = states[states["origin"] == "data/host/states.csv"]
    if len(host):
        host_table(r, host)
    guest = states[states["origin"] != "data/host/states.csv"]
    if len(guest):
        guest_table(r, guest)
    missing = missing_regimes(states)
    if missing:
        r.para("Real states under " + ", ".join(missing) + ": not measured yet.")


def host_table(r: Reply, host: pd.DataFrame) -> None:
    """The host's regimes: P per rate, mean and t-interval over runs."""
    mine = host[(host["pattern"] == "poisson") & (host["layout"] == "grouped")]
    rates = sorted(mine["rate_hz"].unique(), reverse=True)[:4]
    r.para("P(state dropped in a key life), Poisson callers, mean +- t over runs:")
    groups = list(mine.groupby("regime", sort=False))
    width = max(map(len, [g for g, _ in groups] + ["regime"])) + 1
    cell = min(13, (COLUMNS - 2 - width - 5) // max(len(rates), 1))
    head = f"  {'regime':<{width}}{'runs':>5}" + "".join(
        f"{r.n(rate, 'states.rate_hz', '{:g}') + ' Hz':>{cell}}" for rate in rates)
    table = [head]
    for label, g in groups:
        cells = ""
        for rate in rates:
            s = p_by_run(g[g["rate_hz"] == rate])
            what = f"states.{label}.{rate:g}"
            cells += f"{'-':>{cell}}" if s.n == 0 else (
                f"{r.n(s.mean, what + '.p', '{:.2f}')}+-"
                f"{r.n(0.0 if math.isnan(s.ci_half) else s.ci_half, what + '.ci', '{:.2f}')}"
            ).rjust(cell)
        table.append(f"  {label:<{width}}{r.n(g['unit'].nunique(), f'states.{label}.runs'):>5}"
                     + cells)
    r.table(table)
    r.cite("churn: page cache re-read at the limit; hog: anon held or "
           "spiking; " + r.src(
               f"data/host/states.csv, {release(host['kernel_release'].iloc[0])}, "
               f"classic LRU, memcg v1 {host['limit_mib'].iloc[0]:g} MiB, no swap"))


def guest_label(row) -> str:
    """A guest campaign's setting, short: campaign, then what differs."""
    name = row["origin"].rsplit("/", 1)[-1].removesuffix(".csv").removesuffix("-instrumentation")
    name = name.removesuffix("-baseline").removesuffix("-fix")   # summed: the same drops
    return (name + ("/mglru" if row["lru"] == "mglru" else "")
            + ("/zram" if row["swap_kib"] > 0 else "")
            + (f"/{row['damon']}" if row["damon"] != "none" else "")
            + ("/cache" if row["reclaim_mib"] > 0 and row["churn_file_mib"] > 0 else "")
            + ("/hog" if row["scope"] == "global" and row["hog_mib"] > 0 else ""))


def guest_table(r: Reply, guest: pd.DataFrame) -> None:
    """The guests' campaigns: key lives dropped of key lives, one run a
    setting (no interval), busy (>= BUSY_STATE_HZ) and idle classes, both patterns."""
    guest = guest.copy()
    guest["label"] = guest.apply(guest_label, axis=1)
    cols = (("poisson", lambda g: g["rate_hz"] >= BUSY_STATE_HZ, f">={BUSY_STATE_HZ}Hz"),
            ("poisson", lambda g: g["rate_hz"] < 0.1, "0.05Hz"),
            ("periodic", lambda g: g["rate_hz"] >= BUSY_STATE_HZ, f"timer>={BUSY_STATE_HZ}"),
            ("periodic", lambda g: g["rate_hz"] < 0.1, "timer0.05"))
    width = max(map(len, list(guest["label"]) + ["guest setting"])) + 1
    table = ["", f"  {'guest setting':<{width}}" + "".join(f"{c[2]:>10}" for c in cols)]
    for label, g in guest.groupby("label", sort=False):
        cells = ""
        for pattern, pick, name in cols:
            rows = g[(g["pattern"] == pattern) & pick(g)]
            what = f"guest.{label}.{name}"
            cells += f"{'-':>10}" if rows.empty else (
                f"{r.n(rows['key_lives_dropped'].sum(), what + '.lost')}/"
                f"{r.n(rows['key_lives'].sum(), what + '.lives')}").rjust(10)
        table.append(f"  {label:<{width}}" + cells)
    r.table(table)
    first = guest.iloc[0]
    r.cite("key lives dropped/lived, one run a row (proactive: baseline and fix "
           "kernels summed); " + r.src(f"data/guests/*-*.csv, "
                                      f"{release(first['kernel_release'])} TCG, cgroup v2"))


def swap_answer(r: Reply, q4, guests: dict, states: pd.DataFrame) -> None:
    r.quote("(seriously, whose desktop system touches swap these days?)")
    name, release_, url = FEDORA_ZRAM
    zram = states[states["swap_kib"] > 0] if not states.empty else states
    lost = zram[zram["rate_hz"] < 0.1] if len(zram) else zram
    swap = (f"with zram swap, idle droppable states were still dropped "
            f"({r.n(lost['key_lives_dropped'].sum(), 'zram.idle.lost')} of "
            f"{r.n(lost['key_lives'].sum(), 'zram.idle.lives')} key lives)"
            if len(lost) else "what swap changes for them is not measured yet")
    text = [f"{name}'s, since {name} {r.src(release_)}: swap on zram by default "
            f"[{r.src(url)}].  Droppable and locked pages never go to swap; "
            f"{swap}; a fork child does not inherit plain mlock's lock."]
    fork = q4.simulated.get("fork")
    if fork is not None:
        m = fork[fork["metric"] == "key_bytes_swappable_max"]
        means = m.groupby("design")["value"].mean()
        others = [d for d in means.index if d != "mlock" and means[d] == 0]
        text.append(f"Simulated, a pre-forking server with swap: mlock leaves "
                    f"{r.n(means.get('mlock', math.nan), 'q4.mlock.key_bytes_swappable')} "
                    f"bytes of key material swappable in its children (mean of "
                    f"{r.n(m['replication'].nunique(), 'q4.replications')} runs), "
                    + ("the other designs none" if len(others) == len(means) - 1 else
                       ", ".join(others) + " none")
                    + f" [{r.src('model/scenarios/fork-server.toml')}].")
    for variant, frame in guests.items():
        tap = frame[(frame["record"] == "tap") & (frame["exp"] == "kselftest")]
        if variant != "mlock-inherit" or "swap_kib" not in tap:
            continue
        swapped = tap[pd.to_numeric(tap["swap_kib"], errors="coerce") > 0]
        for run, g in swapped.groupby("run"):
            text.append(f"MLOCK_INHERIT's selftest passes "
                        f"{r.n((g['value'] == 'ok').sum(), 'mlock-inherit.zram.ok')}/"
                        f"{r.n(len(g), 'mlock-inherit.zram.n')} with zram swap "
                        f"[{r.src(f'data/guests/{variant}.csv run {run}')}, "
                        f"{r.src(release(g['kernel_release'].iloc[0]))} TCG guest].")
    r.para(*text)


def claim_answer(r: Reply, q3, q1, states: pd.DataFrame, effort: str,
                 elsewhere: str = "") -> None:
    """Ingo's 99.999%: the model's sweep, states.csv's Poisson callers and
    what the other states tests found (`elsewhere`), and a drop's price."""
    r.quote("a quirky type that in 99.999% of cases won't ever be 'dropped'")
    claim = q3.simulated.get("claim")
    if claim is not None and len(claim):
        lim = r.n(KEY_LIFE_CLAIM, "claim", "{:.0e}").replace("e-0", "e-")
        r.facts[-1].text = lim
        above = claim[claim["p_mean"] > KEY_LIFE_CLAIM]
        quiet = claim[claim["units_dropped"] == 0]
        text = [f"Simulated (a server's spikes raised step by step, "
                f"{r.n(claim['n'].min(), 'q3.replications')} runs a level, "
                f"each run one independent unit): P(dropped in a key life) > "
                f"{lim} at {r.n(len(above), 'q3.levels_above')} of "
                f"{r.n(len(claim), 'q3.levels')} levels"]
        if len(above):
            worst = above.loc[above["p_mean"].idxmax()]
            text.append(f", at most {r.n(worst['p_mean'], 'q3.p_max', '{:.3g}')} "
                        f"[{r.n(worst['p_low'], 'q3.p_max_low', '{:.2g}')}, "
                        f"{r.n(worst['p_high'], 'q3.p_max_high', '{:.2g}')}] at "
                        f"{r.n(worst['pressure'], 'q3.p_max_at', '{:g}')} MiB")
        if len(quiet):
            text.append(f"; no drop at {r.n(len(quiet), 'q3.levels_quiet')}, which bounds "
                        f"P there only below "
                        f"{r.n(quiet['p_upper95'].max(), 'q3.upper95_max', '{:.2g}')} "
                        "(Clopper-Pearson over runs, the weakest level)")
        r.para("".join(text), f"[{r.src(f'model/sweeps/q3-pressure.toml, effort {effort}')}].")
    # The host's runs only: a TCG guest's times are not costs, and its
    # campaigns are answered under "rarely tested".
    host = states[states["origin"] == "data/host/states.csv"] if not states.empty else states
    if not host.empty:
        mine = host[(host["pattern"] == "poisson") & (host["layout"] == "grouped")
                    & ~host["regime"].isin(UNPRESSED)]
        busy = mine[mine["rate_hz"] >= BUSY_STATE_HZ]
        lives, lost = busy["key_lives"].sum(), busy["key_lives_dropped"].sum()
        # The independent unit is the run: key lives within one share its
        # reclaim passes (model.replicate.rare_event).
        runs = busy.groupby("run")["key_lives_dropped"].sum()
        upper = replicate.clopper_pearson_upper(int((runs > 0).sum()), len(runs))
        idle = mine[mine["rate_hz"] == mine["rate_hz"].min()]
        s = p_by_run(idle)
        r.para(f"Measured (the table above): threads calling ten times a second or "
               f"more lost {r.n(lost, 'states.busy.lost')} of "
               f"{r.n(lives, 'states.busy.key_lives')} key lives in "
               f"{r.n(len(runs), 'states.busy.runs')} runs, which bounds P only "
               f"below {r.n(upper, 'states.busy.upper95', '{:.2g}')} (over runs)"
               f"; threads calling every "
               f"{r.n(1 / idle['rate_hz'].iloc[0], 'states.idle.period_s', '{:g}')} s lost "
               f"P = {r.n(s.mean, 'states.idle.p', '{:.2f}')} +- "
               f"{r.n(s.ci_half, 'states.idle.ci', '{:.2f}')} ({r.n(s.n, 'states.idle.runs')}"
               f" runs, every pressure regime).  So \"{r.n((1 - KEY_LIFE_CLAIM) * 100, 'claim.pct', '{:g}')}%\""
               " is untested for busy "
               "states at this length and false for idle ones on a memcg at its "
               "limit.", elsewhere)
        dropped = (pd.to_numeric(host["zeroed_call_ns_p50"], errors="coerce").dropna()
                   if "zeroed_call_ns_p50" in host else [])
        if len(dropped) and "syscall_4b_ns" in q1.values:
            r.para(f"A dropped state's next call takes "
                   f"{r.n(dropped.min() / 1000, 'states.zeroed_ns_min', '{:.1f}')}-"
                   f"{r.n(dropped.max() / 1000, 'states.zeroed_ns_max', '{:.1f}')} us "
                   "(medians), the syscall "
                   f"{r.n(q1.values['syscall_4b_ns'], 'q1.syscall_4b_ns', '{:.0f}')} ns, "
                   "a warm call "
                   f"{r.n(q1.values['vdso_4b_ns'], 'q1.vdso_4b_ns', '{:.1f}')} ns "
                   f"[{r.src('data/host/states.csv, callcost.csv')}].")


# The host's states tests, each a file of data/host/: validate's and the
# tracer test's, which validate does not predict.
HOST_STATES_TESTS = (*STATES_FILES, "states_tracer.csv")


def busy_drop_sentence(r: Reply, sources: Sources) -> str:
    """The runs under pressure of every host states test, and those in
    which a page of threads calling BUSY_STATE_HZ times a second or more found a
    state zeroed, with their call patterns and regimes and their files;
    "" where no test has such runs.  The reply's table is states.csv's
    Poisson callers: this says what the other tests found."""
    runs, hit, files = 0, [], []
    for name in HOST_STATES_TESTS:
        if not (sources.data_dir / "host" / name).exists():
            continue
        frame = calibration.vdso_runs(sources.read(
            f"host/{name}", ("run", "regime", "pattern", "rate_hz", "calls_zeroed", "classes")))
        busy = frame[(frame["rate_hz"] >= BUSY_STATE_HZ) & ~frame["regime"].isin(UNPRESSED)]
        zeroed = busy.groupby(["run", "pattern", "regime"])["calls_zeroed"].sum()
        runs += zeroed.index.get_level_values("run").nunique()
        mine = zeroed[zeroed > 0].index
        hit += list(mine)
        files += [name] if len(mine) else []
    if not runs:
        return ""
    said = f"All states tests: {r.n(len(hit), 'busy.dropped_runs')} of " \
           f"{r.n(runs, 'busy.pressure_runs')} pressure runs dropped a busy page"
    if not hit:
        return said + "."
    how = sorted({("timer-locked" if pattern == "periodic" else pattern) + f" under {regime}"
                  for _, pattern, regime in hit})
    return (said + f" ({', '.join(how)}) "
            f"[{r.src('data/host/' + ', '.join(sorted(files)))}].")


def placement_sentence(r: Reply, sources: Sources) -> str:
    """Timer-locked states and the CPU their threads share: the placement
    test's pinned arms (data/host/states_placement.csv) and, where taken,
    the reader test's unpinned runs (states_reader.csv); "" without the
    first."""
    test = sources.read("host/states_placement.csv", ("placement", "pattern", "rate_hz",
                                                      "calls", "calls_zeroed", "run"))
    if test is None:
        return ""
    slow = test[(test["pattern"] == "periodic") & (test["rate_hz"] == 1.0)]
    arms = {arm: g for arm, g in slow.groupby("placement") if arm in ("same", "split")}
    if len(arms) < 2:
        return ""
    said = {arm: (f"{r.n(g['calls_zeroed'].sum(), f'placement.{arm}.zeroed')} of "
                  f"{r.n(g['calls'].sum(), f'placement.{arm}.calls')}")
            for arm, g in arms.items()}
    text = (f"Timer threads lost their state at {said['same']} calls beside a "
            f"page-cache reader, {said['split']} on their own CPU")
    reader = sources.read("host/states_reader.csv", ("pattern", "rate_hz", "calls",
                                                     "calls_zeroed"))
    if reader is None:
        return text + f" [{r.src('data/host/states_placement.csv')}]."
    free = reader[(reader["pattern"] == "periodic") & (reader["rate_hz"] == 1.0)]
    return (text + f", {r.n(free['calls_zeroed'].sum(), 'reader.zeroed')} of "
            f"{r.n(free['calls'].sum(), 'reader.calls')} unpinned as the reader moved "
            f"[{r.src('data/host/states_placement.csv, states_reader.csv')}].")


def bitrot_answer(r: Reply, q5, guests: dict) -> None:
    r.quote("and will thus bitrot fast?")
    rows = q5.measured.get("complexity_rows")
    if rows is None:
        r.para("Not counted: data/complexity.csv is absent.")
        return
    mine = rows[rows["design"] == "droppable"]
    pre = mine[mine["metric"] == "fix_pre_merge"]
    post = mine[mine["metric"] == "fix_post_merge"]
    text = [f"Upstream's record: {r.n(len(pre), 'droppable.fix_pre_merge')} fix before "
            f"merge, {r.n(len(post), 'droppable.fix_post_merge')} after it (mlockall "
            "locking droppable mappings, an errno, a dead uffd check, a kernel "
            "fault's OOM), and the "
            "accounting bug of results/bug-report-droppable-accounting.txt, there "
            "since the merge."]
    frame = guests.get("baseline")
    if frame is not None:
        tap = frame[(frame["record"] == "tap") & (frame["args"] == "kselftest droppable")]
        if len(tap):
            text.append(f"The kernel's own droppable selftest passes on that kernel "
                        f"({r.n((tap['value'] == 'ok').sum(), 'baseline.droppable.ok')} of "
                        f"{r.n(len(tap), 'baseline.droppable.n')} results "
                        f"[{r.src('data/guests/baseline.csv runs ' + ', '.join(map(str, sorted(set(tap['run'])))))}]).")
    r.para(*text)
    r.cite(r.src("data/complexity.csv: each fix's Message-ID or commit"))


def mlock_answer(r: Reply, q2, q5, guests: dict, sources: Sources) -> None:
    r.quote("What's wrong with making mlock() more usable? Or just saying that \"yeah, "
            "the vDSO can allocate a few more permanent pages outside of existing "
            "rlimits & mlock budgets\"?")
    memlock = sources.read("host/memlock.csv", ("limit_bytes", "states_locked"))
    text = []
    if memlock is not None:
        lim = memlock[memlock["states_locked"] > 0].sort_values("limit_bytes")
        parts = [f"{r.n(row['states_locked'], 'memlock.states')} states fit "
                 + (f"{r.n(row['limit_bytes'] / 2**20, 'memlock.limit_mib', '{:g}')} MiB"
                    if row["limit_bytes"] >= 2**20 else
                    f"{r.n(row['limit_bytes'] / 1024, 'memlock.limit_kib', '{:g}')} KiB")
                 for _, row in lim.iterrows()]
        fb = q2.values.get("mlock_fallback_from_threads")
        text.append("RLIMIT_MEMLOCK stays the bound for mlock: " + ", ".join(parts)
                    + f" [{r.src('data/host/memlock.csv')}, host "
                    f"{r.src(release(memlock['kernel_release'].iloc[0]))}]"
                    + (f"; the model's mlock falls back to the syscall by "
                       f"{r.n(fb, 'q2.fallback_threads')} threads [Q2]" if fb else "") + ".")
    comp = q5.measured.get("complexity")
    if comp is not None:
        c = comp.set_index("design")
        text.append(
            f"Plain mlock costs libc [{r.src('glibc 2.41 getrandom.c, data/complexity.csv')}] "
            f"{r.n(c.loc['mlock', 'libc_calls_per_block'], 'mlock.libc')} calls per block "
            f"of states and {r.n(c.loc['mlock', 'libc_calls_per_block_after_fork'], 'mlock.libc_fork')}"
            " more in each fork child; MLOCK_INHERIT "
            f"{r.n(c.loc['mlock-inherit', 'libc_calls_per_block'], 'mlock-inherit.libc')}"
            f" and {r.n(c.loc['mlock-inherit', 'libc_calls_per_block_after_fork'], 'mlock-inherit.libc_fork')}"
            ", still charged (past the limit a child is left unlocked).  Exempt pages "
            f"take {r.n(c.loc['exempt', 'libc_calls_per_block'], 'exempt.libc')} call and "
            "are never charged or reclaimed: at a memcg limit others are "
            "reclaimed or killed.")
    budget = guest_wide(guests["exempt"], "map_unevictable_budget", "diag") \
        if "exempt" in guests else pd.DataFrame()
    if not budget.empty:
        parts = [f"{r.n(row['pages'], 'exempt.budget_pages')} pages for "
                 f"{r.n(row['threads'], 'exempt.budget_threads')} "
                 f"thread{'' if row['threads'] == 1 else 's'}"
                 for _, row in budget.iterrows()]
        text.append("Their budget: " + ", ".join(parts)
                    + f", then mmap() fails [{r.src(f'data/guests/exempt.csv run {budget.run.iloc[0]}')}].")
    if text:
        r.para(*text)
    else:
        r.para("Not measured: data/host/memlock.csv and data/complexity.csv are absent.")


def bug_seen(guests: dict) -> bool:
    """The upstream guest lost its whole region, uncounted, whenever the
    memcg needed part of it: the accounting bug."""
    if "baseline" not in guests:
        return False
    rows = partly_over(sweep(pressure(guests, "baseline")))
    return len(rows) > 0 and bool(((rows["dropped_pages"] > rows["over_pages"])
                                   & (rows["pgsteal_file"] == 0)).all())


def tradeoff_answer(r: Reply, q5, states: pd.DataFrame, guests: dict, lone=None,
                    loop=None) -> None:
    """`lone`: idle_costs(), a thread calling alone after a long sleep (its
    saving, its reseeds included: hostcosts.Alone) and, where timed, in a
    busy process (what its vDSO call costs against the syscall); `loop`:
    loop_busy_cost(), the same in the states loop: the two loops' range."""
    r.quote("pushes us well past the maintenance_overhead<->complexity trade-off sweet "
            "spot ...")
    text = []
    benefit = q5.simulated.get("benefit")
    if benefit is not None and "droppable" in set(benefit["design"]):
        vdso = benefit[benefit["design"] != "syscall"]

        def pct(column: str, what: str) -> str:
            """The vDSO designs' range, one number where they agree."""
            low, high = (r.n(v * 100, f"q5.{what}_{end}", "{:.1f}")
                         for v, end in ((vdso[column].min(), "min"), (vdso[column].max(), "max")))
            return low if low == high else f"{low}-{high}"
        saved = (f"The vDSO designs save {pct('cpu_saved_fraction', 'cpu_saved_pct')}% of "
                 "the syscall's CPU in the model "
                 f"({pct('cpu_saved_fraction_b2b', 'cpu_saved_b2b_pct')}% back to back).")
        if lone:
            alone, busy, where = lone
            saved += (f" A {r.n(alone.gap_ms / 1000, 'idle.gap_s', '{:g}')} s caller saves "
                      f"{r.n(alone.saved * 100, 'idle.saved_pct', '{:.0f}')}% alone")
            if busy:
                _, vdso_ns, syscall_ns = busy
                ratios = [(vdso_ns.value / syscall_ns.value, "idle.busy_vdso_per_syscall")]
                if loop:
                    ratios.append((loop[0], "loop.busy_vdso_per_syscall"))
                    where += f", {loop[1]}"
                times = "-".join(r.n(v, what, "{:.1f}") for v, what in sorted(ratios))
                saved += f" but pays {times}x the syscall in a busy process"
            saved += f" [{r.src(where)}]."
        text.append(saved)
    # The designs' lines are counted in the first answer.
    text.append("Each alternative trades the drop for charged or pinned memory.")
    idle_lost = (not states.empty
                 and states[states["rate_hz"] < BUSY_STATE_HZ]["key_lives_dropped"].sum() > 0)
    proactive = states[(states["reclaim_mib"] > 0) & (states["rate_hz"] >= BUSY_STATE_HZ)] \
        if not states.empty else states
    busy_lost = bool(len(proactive)) and proactive["key_lives_dropped"].sum() > 0
    if idle_lost:
        text.append("The drop path is not rarely run: a memcg at its limit drops idle "
                    "states" + (", and proactive reclaim, with nothing else to take, "
                                "busy ones." if busy_lost else "."))
    elif busy_lost:
        text.append("Proactive reclaim (memory.reclaim) with nothing else to take "
                    "drops busy states.")
    if bug_seen(guests):
        comp, fix = q5.measured.get("complexity"), ""
        if comp is not None:
            lines = comp.set_index("design").loc["droppable-fixed", "lines_added_kernel"]
            fix = f", fixed in {r.n(lines, 'droppable-fixed.lines_added_kernel')} kernel lines"
        text.append(f"As merged, reclaim drops every cold droppable page it reaches{fix}.")
    if idle_lost and bug_seen(guests):
        text.append("On these data the next step is to fix droppable's accounting and "
                    "test it under pressure; they show neither alternative better for "
                    "the vDSO, nor worse.")
    else:
        text.append("Without the measurements named above the study draws no "
                    "conclusion here.")
    r.para(*text)


def build(study) -> Reply:
    r = Reply()
    sources = Sources(study.sources.data_dir)
    guests = guest_frames(sources)
    states = state_rows(sources, guests)
    a = study.answers
    date = next(l.split(":", 1)[1].strip() for l in MAIL.read_text().splitlines()
                if l.startswith("# Date:"))
    r.lines += [f"On {r.src(date)} Ingo Molnar wrote (<{r.src(MESSAGE_ID)}>):"]
    complexity_answer(r, a["Q5"])
    tested_answer(r, states, guests)
    swap_answer(r, a["Q4"], guests, states)
    claim_answer(r, a["Q3"], a["Q1"], states, study.effort.name,
                 " ".join(filter(None, (busy_drop_sentence(r, sources),
                                        placement_sentence(r, sources)))))
    bitrot_answer(r, a["Q5"], guests)
    mlock_answer(r, a["Q2"], a["Q5"], guests, sources)
    tradeoff_answer(r, a["Q5"], states, guests, idle_costs(sources),
                    loop_busy_cost(a["Q5"].measured.get("states_loop")))
    return r


def check(text: str) -> None:
    """The list's limits: COLUMNS wide, about MAX_LINES long."""
    lines = text.splitlines()
    wide = [l for l in lines if len(l) > COLUMNS]
    if wide:
        raise ValueError(f"reply: line of {len(wide[0])} columns: {wide[0]!r}")
    if len(lines) > MAX_LINES:
        raise ValueError(f"reply: {len(lines)} lines, more than {MAX_LINES}")


def write(study, out: Path = REPLY) -> Path:
    """results/reply.txt; a reply over the limits is still written (data that
    lands may lengthen it) but said so, and tests/test_reply.py fails on it."""
    text = build(study).render()
    try:
        check(text)
    except ValueError as e:
        print(f"warning: {e}", file=sys.stderr)
    atomic.write_text(out, text)
    return out
