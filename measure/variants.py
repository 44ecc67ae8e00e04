"""The four guest kernels of the study and where each one's build lives.

A variant is Debian's linux-source-6.12 plus a prefix of the patch series in
kernel-patches/patches/ and the config fragments in kernel-patches/config/.
The series is cumulative (each patch is made on top of the one before), so a
variant names the patches it applies in order.

A build is keyed by what went into it, so that changing a patch or a
fragment never reuses a stale bzImage:
    $STUDY_CACHE/kernels/<variant>-<config hash>-<patch hash>/bzImage
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
        return _digest(self.fragment_files())

    def patch_hash(self) -> str:
        files = self.patch_files()
        return _digest(files) if files else "none"

    def build_dir(self, cache: Path | None = None) -> Path:
        cache = cache or study_cache()
        return cache / "kernels" / f"{self.name}-{self.config_hash()}-{self.patch_hash()}"


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:HASH_CHARS]


def study_cache() -> Path:
    return Path(os.environ.get("STUDY_CACHE", "/var/cache/vm-droppable-study"))


VARIANTS = {v.name: v for v in (
    Variant("baseline", (), ("study.config",), "droppable"),
    Variant("instrumentation", ("0001",), ("study.config",), "droppable"),
    Variant("mlock-inherit", ("0001", "0002"), ("study.config",), "mlock-inherit"),
    Variant("exempt", ("0001", "0002", "0003"), ("study.config", "exempt.config"), "exempt"),
)}


def select(names: list[str] | None) -> list[Variant]:
    """The variants named, in the study's order; all of them for None or []."""
    if not names:
        return list(VARIANTS.values())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant {unknown[0]!r} (known: {', '.join(VARIANTS)})")
    return [VARIANTS[n] for n in names]
