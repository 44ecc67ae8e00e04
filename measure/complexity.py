"""`make complexity`: what each design costs, counted alike.

    python -m measure.complexity [--out data/complexity.csv]

One row per (design, item, metric); every row says where its number comes
from (`source`: a patch file of this repository, a kernel tree, a commit
id or a Message-ID, which resolves at lore.kernel.org/r/<ID>).

Designs: syscall and mlock change no kernel code; droppable is upstream's
MAP_DROPPABLE (9651fcedf7b9, merged in v6.11); mlock-inherit, exempt and
droppable-fixed are this study's patches 0002, 0003 and 0004-0005 (the
fix is counted on its own: droppable-fixed costs droppable plus it);
droppable-instrumentation is patch 0001, counters only; vdso-shared is the
vDSO getrandom() every design but syscall needs, as pulled in 6.11 and 6.12.

Every patch, upstream's included, is counted by count_patch() with the
same rules (upstream's, as posted, in UPSTREAM_COUNTED: its text is not in
this repository; its diffstat checks the transcription):
  files_changed  files the diff touches.
  lines_{added,removed}_{mm,arch,include,tests,other}
                 '+'/'-' lines by where the file is: mm/, arch/, include/,
                 tools/testing/ (tests), anywhere else.
  lines_{added,removed}_total   all of them;
  lines_{added,removed}_kernel  all but tests.
  selftest_lines '+' lines under tools/testing/ (tests counted on both
                 sides: upstream's droppable.c and the study's selftests).
  arches_touched distinct arch/<name>/ directories.
  new_vm_flags   VM_* names #defined on '+' lines and on no '-' line,
                 other than *_BIT and *_MASK names.
  new_uapi_flags MAP_*, MLOCK_*, MCL_* #defined on '+' lines under uapi/.
  special_cases_{fault_reclaim,other}
                 '+' lines that branch (if, while, ?:, ||, &&) on one of
                 the designs' names (DESIGN_TOKENS), in the fault and
                 reclaim files (FAULT_RECLAIM_FILES) or elsewhere.
The metrics no diff gives:
  fix_pre_merge, fix_post_merge  one row per fix (value 1), `detail` says
                 what; pre-merge: found after posting, before mainline.
  bug_found_by_study  a bug in a design found by this study.
  review_status  text: where the design stands upstream.
  libc_calls_per_block, libc_calls_per_block_after_fork, libc_change
                 what libc does to get the state pages of one block
                 (glibc maps states a block at a time, see LIBC).
"""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from measure.cleanup import exit_on_sigterm
from measure.provenance import provenance, write_csv_atomic
from measure.variants import PATCH_DIR, REPO, SOURCE_TARBALL

OUT = REPO / "data" / "complexity.csv"
# The release the patches are counted against is read from the tree
# (tree_release()); without the tarball it is not known.
NO_TREE = "linux-source-6.12 (release not read: no tarball)"

# Which design each patch of the series implements.
PATCH_DESIGNS = {
    "0001": "droppable-instrumentation",
    "0002": "mlock-inherit",
    "0003": "exempt",
    "0004": "droppable-fixed",
    "0005": "droppable-fixed",
}
STUDY_DESIGNS = ("droppable-instrumentation", "mlock-inherit", "exempt", "droppable-fixed")

# The files where a page fault is handled or a folio reclaimed.
FAULT_RECLAIM_FILES = frozenset({
    "mm/memory.c", "mm/rmap.c", "mm/vmscan.c", "mm/swap.c", "mm/gup.c",
    "mm/huge_memory.c", "mm/khugepaged.c", "mm/madvise.c", "mm/internal.h",
    "mm/swapfile.c", "mm/page_io.c", "mm/migrate.c",
})

# Flags and names whose tests are the special cases of the designs;
# folio_test_swapbacked() is how a folio, with no vma at hand, is known
# to be lazyfree or droppable.
DESIGN_TOKENS = ("VM_DROPPABLE", "is_droppable", "MAP_DROPPABLE", "VM_LOCKINHERIT",
                 "MLOCK_INHERIT", "VM_MLOCK_EXEMPT", "MAP_UNEVICTABLE",
                 "CONFIG_VDSO_GETRANDOM_UNEVICTABLE", "DROPPABLE_DISCARD",
                 "DROPPABLE_FAULT_OOM", "unevictable_vm", "folio_test_swapbacked")

DIFF_RE = re.compile(r"diff --git a/(\S+) b/(\S+)")
DEFINE_RE = re.compile(r"#\s*define\s+([A-Z][A-Z0-9_]*)\b")
BRANCH_RE = re.compile(r"\b(if|while)\s*\(|\?|\|\||&&")
TOKEN_RE = re.compile(r"\b(" + "|".join(map(re.escape, DESIGN_TOKENS)) + r")\b")
FUNC_TEXT_RE = re.compile(r"IS_ENABLED\((CONFIG_[A-Z0-9_]+)\)")
AREAS = ("mm", "arch", "include", "tests", "other")

V23 = "<20240712014009.281406-2-Jason@zx2c4.com>"
# Upstream patches counted by count_patch() from their posted text (the
# source); the first row of each is the diffstat the transcription matched.
UPSTREAM_COUNTED = (
    ("droppable", "MAP_DROPPABLE v23 1/4, merged as 9651fcedf7b9", V23, {
        "files_changed": 17, "lines_added_total": 137, "lines_removed_total": 15,
        "lines_added_mm": 62, "lines_removed_mm": 15, "lines_added_arch": 0,
        "lines_removed_arch": 0, "lines_added_include": 18, "lines_removed_include": 0,
        "lines_added_tests": 55, "lines_removed_tests": 0, "lines_added_other": 2,
        "lines_removed_other": 0, "lines_added_kernel": 82, "lines_removed_kernel": 15,
        "selftest_lines": 55, "arches_touched": 0, "new_vm_flags": 1, "new_uapi_flags": 1,
        "special_cases_fault_reclaim": 4, "special_cases_other": 4}),
    ("droppable", "x86 skip of the faulting instruction, v13 3/7 (never merged)",
     "<20221221142327.126451-4-Jason@zx2c4.com>", {
        "files_changed": 3, "lines_added_total": 26, "lines_removed_total": 2,
        "lines_added_mm": 3, "lines_removed_mm": 1, "lines_added_arch": 19,
        "lines_removed_arch": 0, "lines_added_include": 4, "lines_removed_include": 1,
        "lines_added_tests": 0, "lines_removed_tests": 0, "lines_added_other": 0,
        "lines_removed_other": 0, "lines_added_kernel": 26, "lines_removed_kernel": 2,
        "selftest_lines": 0, "arches_touched": 1, "new_vm_flags": 0, "new_uapi_flags": 0,
        "special_cases_fault_reclaim": 1, "special_cases_other": 0}),
)

# Diffstats as their authors gave them (not counted by the rules above).
UPSTREAM_CITED = (
    ("droppable", "VM_DROPPABLE, v14 2/7, as its author counted it in review",
     "<Y7RDQLEvlLM0o4cp@zx2c4.com>", {"lines_added_total": 38, "lines_removed_total": 4}),
    ("droppable", "VM_DROPPABLE arch work, v14, as its author counted it in review",
     "<Y7RDQLEvlLM0o4cp@zx2c4.com>", {"lines_added_total": 19}),
    ("vdso-shared", "random-6.11-rc1 pull: MAP_DROPPABLE, vDSO getrandom(), x86, selftests",
     "<20240719183308.1472668-1-Jason@zx2c4.com> (merge 7a3fad30fd8b)",
     {"files_changed": 37, "lines_added_total": 1122, "lines_removed_total": 18}),
    ("vdso-shared", "random-6.12-rc1 pull: arm64, powerpc, s390, loongarch ports and fixes",
     "<20240916121358.3666562-1-Jason@zx2c4.com> (merge 4a39ac5b7d62)",
     {"files_changed": 89, "lines_added_total": 1949, "lines_removed_total": 239}),
)

# Fixes of upstream's droppable code, each with its primary source.
FIXES = (
    ("droppable", "fix_pre_merge",
     "use-after-free: handle_mm_fault() read vma->vm_flags after the fault "
     "(syzbot, linux-next 20240712, f73fad23fa); 9651fcedf7b9 reads it before",
     "<ZpcnyYS29p/Fud+L@xpf.sh.intel.com>"),
    ("droppable", "fix_post_merge",
     "mlockall(MCL_FUTURE) made droppable mappings VM_LOCKED; vma_supports_mlock() "
     "(d239462787b0, in 6.12.117)",
     "<20260310155821.17869-1-anthony.yznaga@oracle.com>"),
    ("droppable", "fix_post_merge",
     "mmap(MAP_DROPPABLE) failed with ENOTSUPP where unsupported, now EOPNOTSUPP "
     "(in 6.12.117 mm/mmap.c); the series also makes run_vmtests.sh run droppable.c",
     "<20260416033939.49981-1-anthony.yznaga@oracle.com>"),
    ("droppable", "fix_post_merge",
     "userfaultfd's VM_DROPPABLE registration check was dead code (tested after "
     "masking vm_flags); posted Jun 2025, not in 6.12.117 or 6.12.118",
     "<20250607-uffd-fixes-v2-1-339dafe9a2fe@columbia.edu>"),
    ("droppable", "fix_post_merge",
     "handle_mm_fault() cleared VM_FAULT_OOM for every droppable fault, also one "
     "from kernel mode, which has no return to user space to retry from; since "
     "6.12.118 only a user fault's (mm/memory.c; not in 6.12.117)",
     "stable 6.12.118, \"mm: fix unkillable fault loop on MAP_DROPPABLE memory\" "
     "(kernel.org ChangeLog-6.12.118; upstream commit id not available offline)"),
    ("droppable", "bug_found_by_study",
     "reclaim frees discarded droppable folios without counting them, so any reclaim "
     "drops every droppable folio it reaches; fixed by 0004, not yet posted",
     "kernel-patches/patches/0004-mm-vmscan-count-discarded-droppable-folios-as-reclai.patch"),
    ("mlock-inherit", "fix_pre_merge",
     "RLIMIT_MEMLOCK was not checked at fork(); the child's copy is now left "
     "unlocked past it", "issue 12 (this repository); kernel-patches/patches/0002"),
    ("mlock-inherit", "fix_pre_merge",
     "a child's copy-on-write or exit munlocked the pages it shared with its parent "
     "(nr_mlock unchanged after a child wrote 64 inherited pages); copy_present_ptes() "
     "now mlocks them for the child", "data/guests/mlock-inherit.csv at commit 58a0bda, "
     "runs 3 and 8; kernel-patches/patches/0002"),
    ("exempt", "fix_pre_merge",
     "unbounded: any process could pin any amount; now a budget of the vDSO "
     "states of its threads", "issue 12 (this repository); kernel-patches/patches/0003"),
    ("exempt", "fix_pre_merge",
     "MADV_KEEPONFORK and MADV_DODUMP were accepted, undoing wipe-on-fork and "
     "no-dump; now refused", "issue 12 (this repository); kernel-patches/patches/0003"),
    ("exempt", "fix_pre_merge",
     "tools/testing/vma could not compile mm/vma.c: its stubs lacked VM_MLOCK_EXEMPT "
     "(in 6.12.117 that test does not link anyway: vma_close() is missing)",
     "issue 12 (this repository); kernel-patches/patches/0003"),
)

REVIEW_STATUS = (
    ("syscall", "upstream (the getrandom() syscall, v3.17)", "kernel"),
    ("mlock", "upstream primitives only; no libc uses them for the state",
     "mm/mlock.c, mm/madvise.c"),
    ("droppable", "merged in v6.11 (Acked-by: David Hildenbrand); in glibc since 2.41", V23),
    ("droppable-instrumentation", "study patch: not posted, not reviewed",
     "kernel-patches/patches/0001"),
    ("mlock-inherit", "study patch: not posted, not reviewed", "kernel-patches/patches/0002"),
    ("exempt", "study patch: not posted, not reviewed", "kernel-patches/patches/0003"),
    ("droppable-fixed", "study patch: not posted, not reviewed",
     "kernel-patches/patches/0004, 0005"),
)

# What libc does per block of states (glibc 2.41, commit 461cab1de747,
# sysdeps/unix/sysv/linux/getrandom.c vgetrandom_get_state_alloc(): one
# mmap() of ALIGN_PAGE(nprocs * state size) with the vDSO's mmap_flags,
# plus one prctl(PR_SET_VMA) to name it, which every design shares and is
# not counted).  The mlock designs add by hand what MAP_DROPPABLE implies,
# as kernel-patches/harness/vgetrandom-harness.c state_map() does.
GLIBC = "glibc 2.41 (461cab1de747) sysdeps/unix/sysv/linux/getrandom.c"
LIBC = (
    # design, calls per block, calls per block in a child after fork(), change, source
    ("syscall", 0, 0, "none: no state, a getrandom() syscall per call", GLIBC),
    ("droppable", 1, 0, "none: mmap(MAP_DROPPABLE) with the vDSO's flags", GLIBC),
    ("droppable-fixed", 1, 0, "none: as droppable", GLIBC),
    ("exempt", 1, 0, "none: mmap(MAP_UNEVICTABLE) with the vDSO's flags; past the "
     "budget mmap() fails and glibc uses the syscall", f"{GLIBC}; kernel-patches/patches/0003"),
    ("mlock", 4, 1, "mmap + madvise(MADV_WIPEONFORK) + madvise(MADV_DONTDUMP) + "
     "mlock2(MLOCK_ONFAULT), ignoring the vDSO's flags; mlock2 again in every child; "
     "the syscall when RLIMIT_MEMLOCK refuses", f"{GLIBC}; kernel/fork.c dup_mmap()"),
    ("mlock-inherit", 4, 0, "mmap + madvise(MADV_WIPEONFORK) + madvise(MADV_DONTDUMP) + "
     "mlock2(MLOCK_ONFAULT | MLOCK_INHERIT), ignoring the vDSO's flags; the syscall "
     "when RLIMIT_MEMLOCK refuses", f"{GLIBC}; kernel-patches/patches/0002"),
)

# Upstream's special cases as shipped, counted in the 6.12 tree.
DROPPABLE_TOKEN_RE = re.compile(r"\b(VM_DROPPABLE|is_droppable|MAP_DROPPABLE)\b")
TREE_DIRS = ("mm", "include", "kernel", "fs", "lib")


class PatchError(ValueError):
    """A patch file this script cannot count."""


@dataclass
class PatchCount:
    files: set = field(default_factory=set)
    lines: Counter = field(default_factory=Counter)    # (added|removed, area) -> n
    arches: set = field(default_factory=set)
    defined: set = field(default_factory=set)          # names #defined on '+' lines
    undefined: set = field(default_factory=set)        # names #defined on '-' lines
    uapi_flags: set = field(default_factory=set)
    special_cases: Counter = field(default_factory=Counter)  # fault_reclaim|other -> n


def area(path: str) -> str:
    if path.startswith("tools/testing/"):
        return "tests"
    top = path.split("/", 1)[0]
    return top if top in ("mm", "arch", "include") else "other"


def count_patch(text: str, name: str = "patch") -> PatchCount:
    """Count one git-format-patch file (only its diff, not its message)."""
    count, path = PatchCount(), None
    in_hunk = False
    for number, line in enumerate(text.splitlines(), 1):
        if m := DIFF_RE.match(line):
            path, in_hunk = m.group(2), False
            count.files.add(path)
            if path.startswith("arch/"):
                count.arches.add(path.split("/")[1])
            continue
        if path is None:
            continue                       # the commit message
        if line.startswith("@@"):
            in_hunk = True
            continue
        if line == "-- " or not in_hunk or line.startswith(("+++", "---")):
            in_hunk = in_hunk and line != "-- "
            continue
        sign, body = line[:1], line[1:]
        if sign not in "+- \\":
            raise PatchError(f"{name}:{number}: not a diff line: {line[:60]!r}")
        if sign not in "+-":
            continue
        kind = "added" if sign == "+" else "removed"
        count.lines[kind, area(path)] += 1
        if m := DEFINE_RE.search(body):
            (count.defined if sign == "+" else count.undefined).add(m.group(1))
            if sign == "+" and "/uapi/" in f"/{path}" and \
                    m.group(1).startswith(("MAP_", "MLOCK_", "MCL_")):
                count.uapi_flags.add(m.group(1))
        if sign == "+" and BRANCH_RE.search(body) and \
                (TOKEN_RE.search(body) or FUNC_TEXT_RE.search(body)):
            where = "fault_reclaim" if path in FAULT_RECLAIM_FILES else "other"
            count.special_cases[where] += 1
    if not count.files:
        raise PatchError(f"{name}: no 'diff --git' in it")
    return count


def new_vm_flags(count: PatchCount) -> list[str]:
    return sorted(n for n in count.defined - count.undefined
                  if n.startswith("VM_") and not n.endswith(("_BIT", "_MASK")))


def patch_metrics(count: PatchCount) -> dict:
    metrics = {"files_changed": len(count.files)}
    for kind in ("added", "removed"):
        for a in AREAS:
            metrics[f"lines_{kind}_{a}"] = count.lines[kind, a]
        metrics[f"lines_{kind}_total"] = sum(count.lines[kind, a] for a in AREAS)
        metrics[f"lines_{kind}_kernel"] = metrics[f"lines_{kind}_total"] - \
            count.lines[kind, "tests"]
    metrics["selftest_lines"] = count.lines["added", "tests"]
    metrics["arches_touched"] = len(count.arches)
    metrics["new_vm_flags"] = len(new_vm_flags(count))
    metrics["new_uapi_flags"] = len(count.uapi_flags)
    metrics["special_cases_fault_reclaim"] = count.special_cases["fault_reclaim"]
    metrics["special_cases_other"] = count.special_cases["other"]
    return metrics


NO_KERNEL_CHANGE = tuple(patch_metrics(PatchCount()))


def tree_special_cases(tree: Path) -> Counter:
    """VM_DROPPABLE branches in a kernel tree, by fault_reclaim|other."""
    found = Counter()
    for top in TREE_DIRS:
        for f in sorted((tree / top).rglob("*.[ch]")):
            rel = f.relative_to(tree).as_posix()
            for line in f.read_text(errors="replace").splitlines():
                if DROPPABLE_TOKEN_RE.search(line) and BRANCH_RE.search(line):
                    found["fault_reclaim" if rel in FAULT_RECLAIM_FILES else "other"] += 1
    return found


def _base(where: str, design: str, release: str, command: str) -> dict:
    base = provenance(where=where, variant=design, kernel_release=release, command=command)
    base.update(cpu_model="na", glibc="na")
    return base


def tree_release(tree: Path) -> str:
    """The kernel release of a source tree, from its top Makefile."""
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL) = (\d+)$",
                             (tree / "Makefile").read_text(), re.M))
    if len(fields) != 3:
        raise PatchError(f"{tree / 'Makefile'}: no VERSION, PATCHLEVEL and SUBLEVEL")
    return f"{fields['VERSION']}.{fields['PATCHLEVEL']}.{fields['SUBLEVEL']}"


def tree_rows(tarball: Path, command: str) -> tuple[str, list[dict]]:
    """The tree's release label, and upstream's droppable special cases
    counted in it."""
    with tempfile.TemporaryDirectory(prefix="study-complexity-") as tmp:
        # Decompressing the tarball is CPU work: never beside a timing run.
        subprocess.run(["flock", "/tmp/study-cpu.lock", "tar", "-xJf", str(tarball), "-C", tmp,
                        "--wildcards", "*/Makefile"] + [f"*/{d}" for d in TREE_DIRS],
                       check=True)
        tree = next(Path(tmp).iterdir())
        release = tree_release(tree)
        found = tree_special_cases(tree)
    label = f"{release} (Debian linux-source-6.12)"
    base = _base("source-tree", "droppable", label, command)
    return label, [{**base, "design": "droppable", "item": "VM_DROPPABLE in linux-source-6.12",
                    "metric": f"special_cases_{where}", "value": found[where], "detail": "",
                    "source": f"linux-source-6.12 {release} (Debian): "
                              f"{', '.join(d + '/' for d in TREE_DIRS)}"}
                   for where in ("fault_reclaim", "other")]


def patch_rows(patch_dir: Path, command: str, release: str = NO_TREE) -> list[dict]:
    out = []
    patches = sorted(patch_dir.glob("[0-9][0-9][0-9][0-9]-*.patch"))
    if not patches:
        raise PatchError(f"{patch_dir}: no NNNN-*.patch files")
    for patch in patches:
        prefix = patch.name[:4]
        if prefix not in PATCH_DESIGNS:
            raise PatchError(f"{patch}: no design known for patch {prefix} (PATCH_DESIGNS)")
        design = PATCH_DESIGNS[prefix]
        base = _base("patch-files", design, release, command)
        count = count_patch(patch.read_text(), str(patch))
        for metric, value in patch_metrics(count).items():
            detail = ",".join(new_vm_flags(count)) if metric == "new_vm_flags" else \
                ",".join(sorted(count.uapi_flags)) if metric == "new_uapi_flags" else ""
            out.append({**base, "design": design, "item": patch.name, "metric": metric,
                        "value": value, "detail": detail,
                        "source": f"kernel-patches/patches/{patch.name}"})
    return out


def cited_rows(command: str) -> list[dict]:
    out = []

    def add(design, item, metric, value, detail, source, release="6.11/6.12 upstream"):
        out.append({**_base("cited", design, release, command), "design": design,
                    "item": item, "metric": metric, "value": value, "detail": detail,
                    "source": source})

    for design, item, source, metrics in UPSTREAM_COUNTED:
        for metric, value in metrics.items():
            add(design, item, metric, value, "counted by count_patch()", source)
    for design, item, source, metrics in UPSTREAM_CITED:
        for metric, value in metrics.items():
            add(design, item, metric, value, "as stated by its author", source)
    for design, metric, what, source in FIXES:
        release = "study" if design in STUDY_DESIGNS else "6.11/6.12 upstream"
        add(design, metric.replace("_", " "), metric, 1, what, source, release)
    for design in STUDY_DESIGNS:
        add(design, "fix post merge", "fix_post_merge", "na", "never merged", "not posted",
            "study")
    for design, status, source in REVIEW_STATUS:
        add(design, "review status", "review_status", status, "", source,
            "study" if design in STUDY_DESIGNS else "upstream")
    for design, per_block, after_fork, change, source in LIBC:
        add(design, "libc per block of states", "libc_calls_per_block", per_block, "", source,
            "any")
        add(design, "libc per block of states", "libc_calls_per_block_after_fork", after_fork,
            "", source, "any")
        add(design, "libc per block of states", "libc_change", change, "", source, "any")
    # The designs that change no kernel code, counted alike: zero everywhere.
    for design in ("syscall", "mlock"):
        for metric in NO_KERNEL_CHANGE:
            add(design, "no kernel change", metric, 0, "", "userspace only", "any")
    return out


def rows(patch_dir: Path = PATCH_DIR, command: str = "python -m measure.complexity",
         release: str = NO_TREE) -> list[dict]:
    return patch_rows(patch_dir, command, release) + cited_rows(command)


SHOWN = ("lines_added_kernel", "selftest_lines", "new_vm_flags", "special_cases_fault_reclaim",
         "special_cases_other")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m measure.complexity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=Path, default=PATCH_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tarball", type=Path, default=SOURCE_TARBALL,
                        help="count upstream's VM_DROPPABLE special cases in this tree")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    command = "python -m measure.complexity " + shlex.join(argv if argv is not None
                                                           else sys.argv[1:])
    try:
        tree = []
        release = NO_TREE
        if args.tarball.is_file():
            release, tree = tree_rows(args.tarball, command.strip())
        else:
            print(f"complexity: {args.tarball} absent: upstream special cases not counted")
        table = rows(args.patches, command.strip(), release) + tree
        write_csv_atomic(args.out, table)
    except (PatchError, OSError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for r in table:
        if r["metric"] in SHOWN and r["where"] != "cited" or \
                r["metric"] in SHOWN and r["item"].startswith("MAP_DROPPABLE v23"):
            print(f"{r['design']:26} {r['item'][:40]:40} {r['metric']:28} {r['value']:>5}")
    print(f"complexity: {len(table)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
