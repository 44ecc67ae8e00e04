"""The patch series: it applies to Debian's linux-source-6.12, in order, as
a whole and for every variant; the droppable fix applies on its own; and
scripts/checkpatch.pl has nothing to say about it but for two warnings it
cannot help giving without a git tree and a MAINTAINERS change
(CHECKPATCH_IGNORED).

Only the files the patches touch (and checkpatch's own files) are taken out
of the tarball, so this costs one pass of xz over it.
"""
import re
import shutil
import subprocess

import pytest

from measure.variants import PATCH_DIR, SOURCE_TARBALL, VARIANTS

PATCHES = sorted(PATCH_DIR.glob("[0-9][0-9][0-9][0-9]-*.patch"))
CHECKPATCH_FILES = ("scripts/checkpatch.pl", "scripts/spelling.txt",
                    "scripts/const_structs.checkpatch")
# UNKNOWN_COMMIT_ID: --no-tree cannot look up the Fixes: commit
# (9651fcedf7b9, "mm: add MAP_DROPPABLE for designating always lazily
# freeable mappings", merged in v6.11).  FILE_PATH_CHANGES: a new selftest
# file; tools/testing/selftests/mm/ is already in MAINTAINERS under MEMORY
# MANAGEMENT.
CHECKPATCH_IGNORED = ("UNKNOWN_COMMIT_ID", "FILE_PATH_CHANGES")
CHECKPATCH_TXT = PATCH_DIR / "checkpatch.txt"

needs_source = pytest.mark.skipif(
    not SOURCE_TARBALL.is_file(),
    reason=f"{SOURCE_TARBALL} absent (Debian package linux-source-6.12)")
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")


def touched_files(patches):
    """The files the patches change that the tarball has (not those they create)."""
    files, created = set(), set()
    for p in patches:
        text = p.read_text()
        files.update(re.findall(r"^diff --git a/(\S+) b/", text, re.M))
        created.update(re.findall(r"^diff --git a/(\S+) b/\S+\nnew file mode", text, re.M))
    return sorted(files - created)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A fresh extraction of the files the series touches, as the tarball has them."""
    top = tmp_path_factory.mktemp("linux-source")
    members = [f"linux-source-6.12/{f}" for f in touched_files(PATCHES) + list(CHECKPATCH_FILES)]
    subprocess.run(["tar", "-xJf", str(SOURCE_TARBALL), "-C", str(top)] + members, check=True)
    return top / "linux-source-6.12"


def test_series_is_git_format_patch_with_signoff():
    assert PATCHES, f"no patches in {PATCH_DIR}"
    for p in PATCHES:
        text = p.read_text()
        assert text.startswith("From "), p.name
        assert re.search(r"^Subject: \[PATCH \d+/\d+\] \S", text, re.M), p.name
        assert re.search(r"^Signed-off-by: .+ <.+@.+>$", text, re.M), p.name
        # A commit message that says why, not a one-liner.
        message = text.split("\n\n", 1)[1].split("\n---\n", 1)[0]
        assert len(message.splitlines()) >= 8, f"{p.name}: commit message too short"


def test_variants_name_existing_patches_in_series_order():
    for v in VARIANTS.values():
        files = v.patch_files()
        assert files == [p for p in PATCHES if p in files], f"{v.name}: not in series order"
    # The series is cumulative up to the exempt design; the fix leaves out
    # 0002-0003 so that it differs from instrumentation by the fix alone.
    assert VARIANTS["exempt"].patch_files() == PATCHES[:3]
    assert VARIANTS["fix"].patches == VARIANTS["instrumentation"].patches + ("0004", "0005")
    assert VARIANTS["baseline"].patch_hash() == "none"
    hashes = {v.patch_hash() for v in VARIANTS.values()}
    assert len(hashes) == len(VARIANTS), "two variants would share a build"


def test_patch_hash_ignores_the_commit_message(tmp_path, monkeypatch):
    from measure import variants
    (tmp_path / "0001-x.patch").write_text("From x\nSubject: one\n\ndiff --git a/f b/f\n+x\n")
    monkeypatch.setattr(variants, "PATCH_DIR", tmp_path)
    v = variants.Variant("v", ("0001",), (), "droppable", ())
    before = v.patch_hash()
    (tmp_path / "0001-x.patch").write_text("From y\nSubject: two\n\ndiff --git a/f b/f\n+x\n")
    assert v.patch_hash() == before
    (tmp_path / "0001-x.patch").write_text("From y\nSubject: two\n\ndiff --git a/f b/f\n+y\n")
    assert v.patch_hash() != before


def apply_in_order(pristine, tmp_path, patches):
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    for p in patches:
        for extra in (["--dry-run"], []):
            r = subprocess.run(["patch", "-p1", "--batch", "--forward", *extra, "-d", str(tree),
                                "-i", str(p)], capture_output=True, text=True)
            assert r.returncode == 0, f"{p.name}: {r.stdout}{r.stderr}"
            assert "fuzz" not in r.stdout, f"{p.name} applies only with fuzz: {r.stdout}"


SERIES_CASES = {
    **{f"variant-{v}": VARIANTS[v].patches for v in VARIANTS if VARIANTS[v].patches},
    "whole-series": tuple(p.name[:4] for p in PATCHES),
    # What would be posted to linux-mm: the fix and its selftest, on 6.12 alone.
    "fix-alone": ("0004", "0005"),
}


@needs_source
@needs_patch
@pytest.mark.parametrize("case", SERIES_CASES)
def test_series_applies_cleanly(case, pristine, tmp_path):
    patches = [p for p in PATCHES if p.name[:4] in SERIES_CASES[case]]
    assert len(patches) == len(SERIES_CASES[case])
    apply_in_order(pristine, tmp_path, patches)


def checkpatch(pristine, patch, *extra):
    """checkpatch.pl's output on one patch, named as in the patch directory."""
    r = subprocess.run(["perl", str(pristine / "scripts/checkpatch.pl"), "--no-tree", *extra,
                        patch.name], capture_output=True, text=True, cwd=PATCH_DIR)
    return f"$ perl scripts/checkpatch.pl --no-tree {patch.name}\n{r.stdout}"


needs_perl = pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl")


@needs_source
@needs_perl
@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name[:4])
def test_checkpatch_clean(patch, pristine):
    out = checkpatch(pristine, patch, "--ignore", ",".join(CHECKPATCH_IGNORED))
    assert "total: 0 errors, 0 warnings" in out, out[-2000:]


@needs_source
@needs_perl
def test_checkpatch_txt_is_todays_output(pristine):
    """patches/checkpatch.txt: the plain output (warnings included), current."""
    expected = "".join(checkpatch(pristine, p) for p in PATCHES)
    assert CHECKPATCH_TXT.read_text() == expected, (
        "kernel-patches/patches/checkpatch.txt is stale; in kernel-patches/patches/, for "
        "each NNNN-*.patch print '$ perl scripts/checkpatch.pl --no-tree NAME' and the output "
        "of linux-source-6.12's checkpatch.pl --no-tree NAME")
