"""Build the study's guest kernels and measure them under QEMU.

    python -m measure.kernels build   [VARIANT...]   # make kernels
    python -m measure.kernels measure [VARIANT...]   # make calibrate-guests

`build` compiles each variant (see measure.variants) once into the cache;
`measure` boots each cached kernel with a busybox initramfs holding the
static harness, runs the behaviour experiments, and writes
data/guests/<variant>.csv.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from measure.variants import REPO, SOURCE_TARBALL, Variant, select

BUILD_SCRIPT = REPO / "kernel-patches" / "build-kernel.sh"


def build(variant: Variant, tarball: Path = SOURCE_TARBALL) -> Path:
    """The variant's build directory, compiling it first unless it is cached."""
    out = variant.build_dir()
    if (out / "bzImage").is_file():
        print(f"kernels: {variant.name}: cached {out}/bzImage", flush=True)
        return out
    if not tarball.is_file():
        raise FileNotFoundError(f"{tarball}: missing; install Debian's linux-source-6.12")
    cmd = [str(BUILD_SCRIPT), "-t", str(tarball), "-o", str(out)]
    for f in variant.fragment_files():
        cmd += ["-c", str(f)]
    for p in variant.patch_files():
        cmd += ["-p", str(p)]
    print(f"kernels: {variant.name}: building into {out}", flush=True)
    subprocess.run(cmd, check=True)
    return out


def cmd_build(args) -> int:
    for variant in select(args.variants):
        build(variant)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m measure.kernels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build the variants' kernels into the cache")
    p.add_argument("variants", nargs="*", metavar="VARIANT")
    p.set_defaults(fn=cmd_build)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"error: {e.cmd[0]} failed with status {e.returncode}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
