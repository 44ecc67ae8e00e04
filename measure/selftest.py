"""The peer check: the kernel's own vDSO getrandom benchmark.

Builds tools/testing/selftests/vDSO/vdso_test_getrandom.c from Debian's
linux-source-6.12 tarball (extracted into build/, never committed), runs
`bench-single` and reads its vDSO and syscall times for 4-byte calls, to set
beside the harness's own callcost numbers.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from measure.provenance import REPO

TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
TOP = "linux-source-6.12"
# The selftest, its helpers and the headers its Makefile points at.
MEMBERS = (f"{TOP}/tools/testing/selftests/vDSO", f"{TOP}/tools/testing/selftests/kselftest.h",
           f"{TOP}/tools/include", f"{TOP}/include/uapi")
BUILD = REPO / "build" / "selftest"
BENCH_LINE = re.compile(r"\s*(vdso|libc|syscall): (\d+) times in (\d+)\.(\d{9}) seconds")
AGREEMENT = 0.15        # the bound on |harness - selftest| / selftest


class SelftestError(RuntimeError):
    pass


def ensure_tarball() -> Path:
    if not TARBALL.exists():
        subprocess.run([str(REPO / "scripts" / "debian-deps"), "linux-source-6.12"], check=False)
    if not TARBALL.exists():
        raise SelftestError(f"{TARBALL}: missing (install Debian package linux-source-6.12)")
    return TARBALL


def extract(build: Path = BUILD) -> Path:
    """The few directories of the tree the selftest needs, extracted once."""
    tree = build / TOP
    if (tree / "tools/testing/selftests/vDSO/vdso_test_getrandom.c").exists():
        return tree
    build.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=build, prefix=".extract."))
    try:
        subprocess.run(["tar", "-xJf", str(ensure_tarball()), "-C", str(staging), *MEMBERS],
                       check=True)
        shutil.rmtree(tree, ignore_errors=True)
        (staging / TOP).rename(tree)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tree


def build_selftest(build: Path = BUILD) -> Path:
    """Compile as its Makefile does, minus the kselftest framework around it."""
    tree = extract(build)
    vdso = tree / "tools/testing/selftests/vDSO"
    binary = build / "vdso_test_getrandom"
    cmd = ["gcc", "-std=gnu99", "-O2", "-D_GNU_SOURCE",
           "-isystem", str(tree / "tools/include"), "-isystem", str(tree / "include/uapi"),
           "-o", str(binary), str(vdso / "vdso_test_getrandom.c"), str(vdso / "parse_vdso.c"),
           "-pthread"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SelftestError(f"building vdso_test_getrandom failed: {last}")
    return binary


def bench_single(binary: Path, timeout_s: float = 300) -> dict:
    """ns per 4-byte call by mode ('vdso', 'libc', 'syscall') and the call count."""
    result = subprocess.run([str(binary), "bench-single"], capture_output=True, text=True,
                            timeout=timeout_s)
    if result.returncode:
        raise SelftestError(f"vdso_test_getrandom bench-single exited {result.returncode}: "
                            f"{result.stdout.strip()[-200:]}")
    out = {}
    for line in result.stdout.splitlines():
        m = BENCH_LINE.match(line)
        if m:
            calls = int(m.group(2))
            seconds = int(m.group(3)) + int(m.group(4)) / 1e9
            out[m.group(1)] = {"calls": calls, "ns_per_call": seconds * 1e9 / calls}
    if not {"vdso", "syscall"} <= out.keys():
        raise SelftestError(f"vdso_test_getrandom bench-single: unreadable output "
                            f"{result.stdout.strip()[:200]!r}")
    return out


def agreement(selftest_ns: float, harness_ns: float) -> float:
    """Relative difference of the harness from the selftest."""
    return (harness_ns - selftest_ns) / selftest_ns
