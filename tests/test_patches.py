"""The patch series: it applies to Debian's linux-source-6.12, in order, for
every variant, and scripts/checkpatch.pl has nothing to say about it.

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

needs_source = pytest.mark.skipif(
    not SOURCE_TARBALL.is_file(),
    reason=f"{SOURCE_TARBALL} absent (Debian package linux-source-6.12)")
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")


def touched_files(patches):
    files = set()
    for p in patches:
        files.update(re.findall(r"^diff --git a/(\S+) b/", p.read_text(), re.M))
    return sorted(files)


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
        assert [f.name for f in files] == sorted(f.name for f in files)
        assert files == PATCHES[:len(files)], f"{v.name}: not a prefix of the series"
    assert VARIANTS["baseline"].patch_hash() == "none"
    hashes = {v.patch_hash() for v in VARIANTS.values()}
    assert len(hashes) == len(VARIANTS), "two variants would share a build"


@needs_source
@needs_patch
@pytest.mark.parametrize("variant", [v for v in VARIANTS if VARIANTS[v].patches])
def test_variant_series_applies_cleanly(variant, pristine, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    for p in VARIANTS[variant].patch_files():
        for extra in (["--dry-run"], []):
            r = subprocess.run(["patch", "-p1", "--batch", "--forward", *extra, "-d", str(tree),
                                "-i", str(p)], capture_output=True, text=True)
            assert r.returncode == 0, f"{p.name}: {r.stdout}{r.stderr}"
            assert "fuzz" not in r.stdout, f"{p.name} applies only with fuzz: {r.stdout}"


@needs_source
@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl")
@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name[:4])
def test_checkpatch_clean(patch, pristine):
    r = subprocess.run(["perl", str(pristine / "scripts/checkpatch.pl"), "--no-tree",
                        str(patch)], capture_output=True, text=True, cwd=pristine)
    assert "total: 0 errors, 0 warnings" in r.stdout, r.stdout[-2000:]
