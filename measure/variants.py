"""The five guest kernels of the study and where each one's build lives.

A variant is Debian's linux-source-6.12 plus patches of the series in
kernel-patches/patches/, applied in series order, and the config fragments
in kernel-patches/config/.  The series is made in order (each patch on top
of the ones before); the droppable fix (0004, its selftest 0005) touches
nothing 0002-0003 touch, so the `fix` variant leaves those out and differs
from `instrumentation` by the fix alone.

A build is keyed by what went into it, so that changing a patch's code or a
fragment never reuses a stale bzImage (a patch's commit message does not
go into the kernel and does not count):
    $STUDY_CACHE/kernels/<variant>-<config hash>-<patch hash>/bzImage
Beside it, selftests/ holds the variant's kselftests (`selftests`), built
static from the patched tree for the guest.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATCH_DIR = REPO / "kernel-patches" / "patches"
CONFIG_DIR = REPO / "kernel-patches" / "config"
SOURCE_TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
HASH_CHARS = 12


@dataclass(frozen=True)
class Variant:
    name: str
    patches: tuple[str, ...]            # file name prefixes in PATCH_DIR, applied in order
    fragments: tuple[str, ...]          # files in CONFIG_DIR, merged in order on tinyconfig
    design: str                         # the design of the study it lets us measure
    selftests: tuple[str, ...]          # tools/testing/selftests/mm/<name>.c to build and run

    def patch_files(self) -> list[Path]:
        files = []
        for prefix in self.patches:
            found = sorted(PATCH_DIR.glob(f"{prefix}-*.patch"))
            if len(found) != 1:
                raise FileNotFoundError(f"{PATCH_DIR}: expected one {prefix}-*.patch, "
                                        f"found {len(found)}")
            files.append(found[0])
        return files

    def fragment_files(self) -> list[Path]:
        files = [CONFIG_DIR / f for f in self.fragments]
        for f in files:
            if not f.is_file():
                raise FileNotFoundError(f"{f}: config fragment missing")
        return files

    def config_hash(self) -> str:
        return _digest((f.name, f.read_bytes()) for f in self.fragment_files())

    def patch_hash(self) -> str:
        files = self.patch_files()
        return _digest((f.name[:4], patch_code(f)) for f in files) if files else "none"

    def build_dir(self, cache: Path | None = None) -> Path:
        cache = cache or study_cache()
        return cache / "kernels" / f"{self.name}-{self.config_hash()}-{self.patch_hash()}"


def patch_code(path: Path) -> bytes:
    """What of a git-format-patch file changes the tree: its diffs."""
    text = path.read_bytes()
    start = text.find(b"\ndiff --git ")
    if start < 0:
        raise ValueError(f"{path}: no 'diff --git' in it")
    return text[start + 1:]


def _digest(parts) -> str:
    h = hashlib.sha256()
    for name, data in parts:
        h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:HASH_CHARS]


def study_cache() -> Path:
    return Path(os.environ.get("STUDY_CACHE", "/var/cache/vm-droppable-study"))


VARIANTS = {v.name: v for v in (
    Variant("baseline", (), ("study.config",), "droppable", ("droppable",)),
    Variant("instrumentation", ("0001",), ("study.config",), "droppable", ("droppable",)),
    Variant("mlock-inherit", ("0001", "0002"), ("study.config",), "mlock-inherit",
            ("droppable", "mlock_inherit")),
    Variant("exempt", ("0001", "0002", "0003"), ("study.config", "exempt.config"), "exempt",
            ("droppable", "mlock_inherit", "map_unevictable")),
    Variant("fix", ("0001", "0004", "0005"), ("study.config",), "droppable-fixed",
            ("droppable",)),
)}


def select(names: list[str] | None) -> list[Variant]:
    """The variants named, in the study's order; all of them for None or []."""
    if not names:
        return list(VARIANTS.values())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant {unknown[0]!r} (known: {', '.join(VARIANTS)})")
    return [VARIANTS[n] for n in names]
