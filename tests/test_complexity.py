"""measure.complexity: counting a design's cost from its patch."""
import csv
import re
from pathlib import Path

import pytest

from measure import complexity
from measure.complexity import PatchError, count_patch, new_vm_flags, patch_metrics
from measure.provenance import COLUMNS
from measure.variants import REPO

PATCH = """\
From 0000 Mon Sep 17 00:00:00 2001
Subject: [PATCH 1/1] mm: a design

+this line of the message starts with a plus and is not counted
diff --git is mentioned in prose, not at the start of a line

Signed-off-by: A <a@example.invalid>
---
 include/linux/mm.h | 6 +++++-
 mm/rmap.c          | 2 ++
 2 files changed

diff --git a/include/linux/mm.h b/include/linux/mm.h
index 1..2 100644
--- a/include/linux/mm.h
+++ b/include/linux/mm.h
@@ -1,3 +1,7 @@
 context
-#define VM_LOCKED_MASK	(VM_LOCKED | VM_LOCKONFAULT)
+#define VM_LOCKED_MASK	(VM_LOCKED | VM_LOCKONFAULT | VM_LOCKINHERIT)
+#define VM_LOCKINHERIT_BIT	41
+#define VM_LOCKINHERIT		BIT(VM_LOCKINHERIT_BIT)
+#define VM_LOCKINHERIT		VM_NONE
+/* nothing */
diff --git a/include/uapi/asm-generic/mman-common.h b/include/uapi/asm-generic/mman-common.h
--- a/include/uapi/asm-generic/mman-common.h
+++ b/include/uapi/asm-generic/mman-common.h
@@ -1 +1,2 @@
+#define MLOCK_INHERIT	0x02
diff --git a/arch/mips/include/uapi/asm/mman.h b/arch/mips/include/uapi/asm/mman.h
--- a/arch/mips/include/uapi/asm/mman.h
+++ b/arch/mips/include/uapi/asm/mman.h
@@ -1 +1,2 @@
+#define MLOCK_INHERIT	0x02
diff --git a/mm/rmap.c b/mm/rmap.c
--- a/mm/rmap.c
+++ b/mm/rmap.c
@@ -10,2 +10,4 @@
+	if (vma->vm_flags & VM_LOCKINHERIT)
+		count_vm_event(X);
diff --git a/kernel/fork.c b/kernel/fork.c
--- a/kernel/fork.c
+++ b/kernel/fork.c
@@ -1 +1,3 @@
-	vm_flags_clear(tmp, VM_LOCKED_MASK);
+	if (!(tmp->vm_flags & VM_LOCKINHERIT))
+		vm_flags_clear(tmp, VM_LOCKED_MASK);
--\x20
2.39.5
"""


def test_counts_lines_by_area_and_ignores_the_message():
    m = patch_metrics(count_patch(PATCH))
    assert (m["lines_added_include"], m["lines_removed_include"]) == (6, 1)
    assert (m["lines_added_arch"], m["lines_added_mm"], m["lines_added_other"]) == (1, 2, 2)
    assert m["lines_removed_other"] == 1
    assert m["lines_added_total"] == 11 and m["lines_removed_total"] == 2
    assert m["files_changed"] == 5 and m["arches_touched"] == 1


def test_new_flags_are_new_names_not_bits_masks_or_redefinitions():
    c = count_patch(PATCH)
    assert new_vm_flags(c) == ["VM_LOCKINHERIT"]
    assert c.uapi_flags == {"MLOCK_INHERIT"}


def test_special_cases_split_fault_reclaim_from_elsewhere():
    m = patch_metrics(count_patch(PATCH))
    assert m["special_cases_fault_reclaim"] == 1      # mm/rmap.c
    assert m["special_cases_other"] == 1              # kernel/fork.c


def test_not_a_diff_line_is_an_error():
    with pytest.raises(PatchError, match=r"x.patch:\d+: not a diff line"):
        count_patch(PATCH.replace("+\t\tcount_vm_event(X);", "*garbage"), "x.patch")
    with pytest.raises(PatchError, match="no 'diff --git'"):
        count_patch("Subject: nothing\n", "empty.patch")


def test_tests_are_counted_apart_from_the_kernel():
    patch = PATCH.replace("diff --git a/kernel/fork.c", """\
diff --git a/tools/testing/selftests/mm/x.c b/tools/testing/selftests/mm/x.c
--- /dev/null
+++ b/tools/testing/selftests/mm/x.c
@@ -0,0 +1,2 @@
+	if (flags & MLOCK_INHERIT)
+		return 1;
diff --git a/kernel/fork.c""")
    m = patch_metrics(count_patch(patch))
    assert m["selftest_lines"] == m["lines_added_tests"] == 2
    assert m["lines_added_total"] == 13 and m["lines_added_kernel"] == 11
    # A test's branches are not the kernel's special cases.
    assert m["special_cases_other"] == 2


DESIGNS = ("syscall", "mlock", "droppable", "mlock-inherit", "exempt", "droppable-fixed")


def test_rows_for_the_committed_series_carry_sources_and_provenance():
    rows = complexity.rows()
    for r in rows:
        assert all(r[c] not in (None, "") for c in COLUMNS), r
        assert r["source"], r
    assert set(DESIGNS) <= {r["design"] for r in rows}
    fixes = [r for r in rows if r["metric"].startswith(("fix_", "bug_")) and r["value"] == 1]
    assert len(fixes) == len(complexity.FIXES)
    flags = {(r["design"], r["item"][:4]): r["detail"] for r in rows
             if r["metric"] == "new_vm_flags" and r["where"] == "patch-files"}
    assert flags == {("droppable-instrumentation", "0001"): "",
                     ("mlock-inherit", "0002"): "VM_LOCKINHERIT",
                     ("exempt", "0003"): "VM_MLOCK_EXEMPT",
                     ("droppable-fixed", "0004"): "", ("droppable-fixed", "0005"): ""}


def test_every_design_is_counted_alike():
    """The columns Q5 shows exist for every design, not only where they flatter."""
    rows = complexity.rows()
    have = {(r["design"], r["metric"]) for r in rows}
    for design in DESIGNS:
        for metric in ("special_cases_fault_reclaim", "special_cases_other", "selftest_lines",
                       "lines_added_kernel", "review_status", "libc_calls_per_block",
                       "libc_calls_per_block_after_fork", "libc_change"):
            assert (design, metric) in have, (design, metric)
    status = {r["design"]: r["value"] for r in rows if r["metric"] == "review_status"}
    for design in ("mlock-inherit", "exempt", "droppable-fixed"):
        assert status[design] == "study patch: not posted, not reviewed"
    # A patch nobody merged has no post-merge fixes to count, not zero of them.
    post = {r["design"]: r["value"] for r in rows if r["metric"] == "fix_post_merge"}
    assert post["exempt"] == "na" and post["droppable"] == 1


def test_sources_are_primary_and_relative():
    """No row cites the team's notes or a path of the machine it ran on."""
    rows = complexity.rows()
    committed = (REPO / "data" / "complexity.csv").read_text()
    module = Path(complexity.__file__).read_text()
    for text in [r["source"] for r in rows] + [committed, module]:
        assert "FACTS.md" not in text and "DESIGN.md" not in text
        assert not re.search(r"(^|[\s(,])/(work|usr|tmp|var|home|root)/", text, re.M), text[:200]


def test_tree_count_finds_droppable_branches(tmp_path):
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "rmap.c").write_text(
        "if (vma->vm_flags & VM_DROPPABLE)\n\tx = VM_DROPPABLE;\n")
    (tmp_path / "mm" / "mmap.c").write_text("\t\tif (VM_DROPPABLE == VM_NONE)\n")
    found = complexity.tree_special_cases(tmp_path)
    assert found == {"fault_reclaim": 1, "other": 1}


def test_release_is_read_from_the_tree_not_assumed(tmp_path):
    """The patches are counted against the tree's own release (Debian's
    source moved from 6.12.117 to 6.12.118 under this study)."""
    (tmp_path / "Makefile").write_text("# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 118\n"
                                       "EXTRAVERSION =\n")
    assert complexity.tree_release(tmp_path) == "6.12.118"
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\n")
    with pytest.raises(complexity.PatchError, match="SUBLEVEL"):
        complexity.tree_release(tmp_path)
    assert {r["kernel_release"] for r in complexity.patch_rows(complexity.PATCH_DIR, "c",
                                                                "6.12.118 (Debian)")} \
        == {"6.12.118 (Debian)"}


def test_main_writes_csv_atomically(tmp_path, capsys):
    out = tmp_path / "complexity.csv"
    assert complexity.main(["--out", str(out), "--tarball", str(tmp_path / "absent")]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0])[:len(COLUMNS)] == list(COLUMNS)
    assert "upstream special cases not counted" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["complexity.csv"]


def test_main_reports_a_bad_patch_dir_in_one_line(tmp_path, capsys):
    assert complexity.main(["--patches", str(tmp_path), "--out", str(tmp_path / "c.csv"),
                            "--tarball", str(tmp_path / "absent")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no NNNN-*.patch" in err
    assert not (tmp_path / "c.csv").exists()
