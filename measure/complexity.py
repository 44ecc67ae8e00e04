"""`make complexity`: what each design costs the kernel, in lines.

    python -m measure.complexity [--out data/complexity.csv]

Counted from the patch files in kernel-patches/patches/ (the study's own
implementations of Ingo Molnar's two alternatives, and the droppable
instrumentation), and carried over with their sources from the upstream
record of VM_DROPPABLE (shared/FACTS.md).  One row per (design, item,
metric); every row says where its number comes from.

Definitions, applied to each patch's diff:
  lines_{added,removed}_{mm,arch,include,other}
                 '+'/'-' lines by the top directory of the file changed.
  arches_touched distinct arch/<name>/ directories.
  new_vm_flags   VM_* names #defined on '+' lines and on no '-' line,
                 other than *_BIT, *_MASK and VM_NONE aliases.
  new_uapi_flags MAP_*, MLOCK_*, MCL_* #defined on '+' lines under uapi/.
  special_cases_{fault_reclaim,other}
                 '+' lines that branch (if, else if, ?:, while) on one
                 of the design's flags (DESIGN_TOKENS), in the fault and
                 reclaim path files (FAULT_RECLAIM_FILES) or elsewhere.
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
KERNEL = "6.12.117 (Debian linux-source-6.12)"

# Which design each patch of the series implements.
PATCH_DESIGNS = {
    "0001": "droppable-instrumentation",
    "0002": "mlock-inherit",
    "0003": "exempt",
}

# The files where a page fault is handled or a folio reclaimed.
FAULT_RECLAIM_FILES = frozenset({
    "mm/memory.c", "mm/rmap.c", "mm/vmscan.c", "mm/swap.c", "mm/gup.c",
    "mm/huge_memory.c", "mm/khugepaged.c", "mm/madvise.c", "mm/internal.h",
    "mm/swapfile.c", "mm/page_io.c", "mm/migrate.c",
})

# Flags and names whose tests are the special cases of the designs.
DESIGN_TOKENS = ("VM_DROPPABLE", "is_droppable", "MAP_DROPPABLE", "VM_LOCKINHERIT",
                 "MLOCK_INHERIT", "VM_MLOCK_EXEMPT", "MAP_UNEVICTABLE",
                 "CONFIG_VDSO_GETRANDOM_UNEVICTABLE", "DROPPABLE_DISCARD",
                 "DROPPABLE_FAULT_OOM")

DIFF_RE = re.compile(r"diff --git a/(\S+) b/(\S+)")
DEFINE_RE = re.compile(r"#\s*define\s+([A-Z][A-Z0-9_]*)\b")
BRANCH_RE = re.compile(r"\b(if|while)\s*\(|\?|\|\||&&")
TOKEN_RE = re.compile(r"\b(" + "|".join(map(re.escape, DESIGN_TOKENS)) + r")\b")
FUNC_TEXT_RE = re.compile(r"IS_ENABLED\((CONFIG_[A-Z0-9_]+)\)")

# Upstream VM_DROPPABLE, from /work/shared/FACTS.md "Size and maintenance".
UPSTREAM = (
    # (design, item, metric, value, source)
    ("droppable", "MAP_DROPPABLE v23 as merged", "files_changed", 17,
     "<20240712014009.281406-2-Jason@zx2c4.com> (commit 9651fcedf7b9)"),
    ("droppable", "MAP_DROPPABLE v23 as merged", "lines_added_total", 137,
     "<20240712014009.281406-2-Jason@zx2c4.com> (commit 9651fcedf7b9)"),
    ("droppable", "MAP_DROPPABLE v23 as merged", "lines_removed_total", 15,
     "<20240712014009.281406-2-Jason@zx2c4.com> (commit 9651fcedf7b9)"),
    ("droppable", "MAP_DROPPABLE v23 as merged", "selftest_lines", 53,
     "<20240712014009.281406-2-Jason@zx2c4.com> (commit 9651fcedf7b9)"),
    ("droppable", "MAP_DROPPABLE v23 as merged", "arches_touched", 0,
     "<20240712014009.281406-2-Jason@zx2c4.com> (no arch files)"),
    ("droppable", "MAP_DROPPABLE v23 as merged", "new_vm_flags", 1,
     "include/linux/mm.h VM_DROPPABLE_BIT 40 (commit 9651fcedf7b9)"),
    ("droppable", "VM_DROPPABLE commit (v14, Jan 2023)", "lines_added_total", 38,
     "<Y7RDQLEvlLM0o4cp@zx2c4.com>"),
    ("droppable", "VM_DROPPABLE commit (v14, Jan 2023)", "lines_removed_total", 4,
     "<Y7RDQLEvlLM0o4cp@zx2c4.com>"),
    ("droppable", "VM_DROPPABLE arch work (v14, Jan 2023)", "lines_added_total", 19,
     "<Y7RDQLEvlLM0o4cp@zx2c4.com>"),
    ("droppable", "x86 fault instruction-skip patch (never merged)", "files_changed", 3,
     "shared/FACTS.md, MAP_DROPPABLE series"),
    ("droppable", "x86 fault instruction-skip patch (never merged)", "lines_added_total", 26,
     "shared/FACTS.md, MAP_DROPPABLE series"),
    ("droppable", "x86 fault instruction-skip patch (never merged)", "lines_removed_total", 2,
     "shared/FACTS.md, MAP_DROPPABLE series"),
    ("droppable", "random-6.11-rc1 pull (whole vDSO getrandom)", "files_changed", 37,
     "merge 7a3fad30fd8b"),
    ("droppable", "random-6.11-rc1 pull (whole vDSO getrandom)", "lines_added_total", 1122,
     "merge 7a3fad30fd8b"),
    ("droppable", "random-6.11-rc1 pull (whole vDSO getrandom)", "lines_removed_total", 18,
     "merge 7a3fad30fd8b"),
    ("droppable", "6.12 arch ports (arm64, powerpc, s390, loongarch)", "files_changed", 89,
     "shared/FACTS.md, 6.12 merge window"),
    ("droppable", "6.12 arch ports (arm64, powerpc, s390, loongarch)", "lines_added_total", 1949,
     "shared/FACTS.md, 6.12 merge window"),
    ("droppable", "6.12 arch ports (arm64, powerpc, s390, loongarch)", "lines_removed_total", 239,
     "shared/FACTS.md, 6.12 merge window"),
)

# Fixes after the merge that cite 9651fcedf7b9 or touch droppable handling.
POST_MERGE_FIXES = (
    ("use-after-free in handle_mm_fault found by syzbot (pre-release, Jul 2024)",
     "<ZpcnyYS29p/Fud+L@xpf.sh.intel.com>"),
    ("MADV_PAGEOUT on droppable acts like MADV_DONTNEED (report, Jan 2025)",
     "lkml.iu.edu/hypermail/linux/kernel/2501.2/03612.html"),
    ("userfaultfd registration check was dead code (Jun 2025)",
     "<20250607-uffd-fixes-v2-1-339dafe9a2fe@columbia.edu>"),
    ("mlockall(MCL_FUTURE) locked droppable mappings (Mar 2026, d239462787b0)",
     "<20260310155821.17869-1-anthony.yznaga@oracle.com>"),
    ("ENOTSUPP->EOPNOTSUPP; droppable selftest not run by the framework (Apr 2026)",
     "<20260416033939.49981-1-anthony.yznaga@oracle.com>"),
)


# Upstream's own special cases, counted in the 6.12 tree by the same rule.
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
    for a in ("mm", "arch", "include", "other"):
        metrics[f"lines_added_{a}"] = count.lines["added", a]
        metrics[f"lines_removed_{a}"] = count.lines["removed", a]
    metrics["lines_added_total"] = sum(v for (k, _), v in count.lines.items() if k == "added")
    metrics["lines_removed_total"] = sum(v for (k, _), v in count.lines.items()
                                         if k == "removed")
    metrics["arches_touched"] = len(count.arches)
    metrics["new_vm_flags"] = len(new_vm_flags(count))
    metrics["new_uapi_flags"] = len(count.uapi_flags)
    metrics["special_cases_fault_reclaim"] = count.special_cases["fault_reclaim"]
    metrics["special_cases_other"] = count.special_cases["other"]
    return metrics


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


def tree_rows(tarball: Path, command: str) -> list[dict]:
    """Upstream droppable special cases, counted in linux-source-6.12."""
    with tempfile.TemporaryDirectory(prefix="study-complexity-") as tmp:
        # Decompressing the tarball is CPU work: never beside a timing run.
        subprocess.run(["flock", "/tmp/study-cpu.lock", "tar", "-xJf", str(tarball), "-C", tmp,
                        "--wildcards"] + [f"*/{d}" for d in TREE_DIRS], check=True)
        tree = next(Path(tmp).iterdir())
        found = tree_special_cases(tree)
    base = provenance(where="source-tree", variant="droppable", kernel_release=KERNEL,
                      command=command)
    base.update(cpu_model="na", glibc="na")
    return [{**base, "design": "droppable", "item": "VM_DROPPABLE in linux-source-6.12",
             "metric": f"special_cases_{where}", "value": found[where], "detail": "",
             "source": f"{tarball} ({', '.join(TREE_DIRS)})"}
            for where in ("fault_reclaim", "other")]


def rows(patch_dir: Path = PATCH_DIR, command: str = "python -m measure.complexity") -> list[dict]:
    out = []
    patches = sorted(patch_dir.glob("[0-9][0-9][0-9][0-9]-*.patch"))
    if not patches:
        raise PatchError(f"{patch_dir}: no NNNN-*.patch files")
    for patch in patches:
        prefix = patch.name[:4]
        if prefix not in PATCH_DESIGNS:
            raise PatchError(f"{patch}: no design known for patch {prefix} (PATCH_DESIGNS)")
        design = PATCH_DESIGNS[prefix]
        base = provenance(where="patch-files", variant=design, kernel_release=KERNEL,
                          command=command)
        base.update(cpu_model="na", glibc="na")
        count = count_patch(patch.read_text(), str(patch))
        for metric, value in patch_metrics(count).items():
            detail = ",".join(new_vm_flags(count)) if metric == "new_vm_flags" else \
                ",".join(sorted(count.uapi_flags)) if metric == "new_uapi_flags" else ""
            out.append({**base, "design": design, "item": patch.name, "metric": metric,
                        "value": value, "detail": detail,
                        "source": f"kernel-patches/patches/{patch.name}"})
    facts = provenance(where="cited", variant="droppable", kernel_release="6.11/6.12 upstream",
                       command=command)
    facts.update(cpu_model="na", glibc="na")
    for design, item, metric, value, source in UPSTREAM:
        out.append({**facts, "variant": design, "design": design, "item": item,
                    "metric": metric, "value": value, "detail": "", "source": source})
    for what, source in POST_MERGE_FIXES:
        out.append({**facts, "design": "droppable", "item": "post-merge fix",
                    "metric": "post_merge_fix", "value": 1, "detail": what, "source": source})
    # The designs that need no kernel change at all.
    for design in ("syscall", "mlock"):
        none = provenance(where="cited", variant=design, kernel_release="any", command=command)
        none.update(cpu_model="na", glibc="na")
        out.append({**none, "design": design, "item": "no kernel change",
                    "metric": "lines_added_total", "value": 0, "detail": "",
                    "source": "userspace only (shared/DESIGN.md)"})
    return out


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
        table = rows(args.patches, command.strip())
        if args.tarball.is_file():
            table += tree_rows(args.tarball, command.strip())
        else:
            print(f"complexity: {args.tarball} absent: upstream special cases not counted")
        write_csv_atomic(args.out, table)
    except (PatchError, OSError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for r in table:
        if r["where"] in ("patch-files", "source-tree") and r["metric"] in (
                "lines_added_total", "lines_removed_total", "new_vm_flags",
                "special_cases_fault_reclaim", "special_cases_other"):
            print(f"{r['design']:26} {r['metric']:28} {r['value']:>5} {r['detail']}")
    print(f"complexity: {len(table)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
