"""Boot a kernel and initramfs under QEMU and collect its serial console.

KVM first when /dev/kvm exists, then TCG.  On these machines a KVM guest
either aborts at once (QEMU cannot set an MSR) or hangs before its first
console line, so a KVM boot that prints nothing within `first_output_s`
is killed and the guest is booted again under TCG, with a message.  Every
boot is bounded by `timeout_s`: nothing here waits forever.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

POLL_S = 0.2
QEMU = "qemu-system-x86_64"


@dataclass
class GuestRun:
    accelerator: str        # "kvm" or "tcg"
    serial: str             # everything the guest wrote to ttyS0
    returncode: int | None  # QEMU's; None when we killed it
    timed_out: bool
    wall_s: float
    command: str


def qemu_command(kernel: Path, initrd: Path, append: str, serial_log: Path, accel: str,
                 mem_mib: int, smp: int) -> list[str]:
    cpu = "host" if accel == "kvm" else "max"   # max: TCG emulates RDRAND for the CRNG
    return [QEMU, "-accel", accel, "-cpu", cpu, "-M", "pc", "-smp", str(smp),
            "-m", str(mem_mib), "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-serial", f"file:{serial_log}",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append]


def _run_once(cmd: list[str], serial_log: Path, timeout_s: float,
              first_output_s: float | None) -> tuple[int | None, bool, bool, float]:
    """(returncode, timed_out, silent, wall_s) of one QEMU process."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            waited = time.monotonic() - t0
            silent = not serial_log.exists() or serial_log.stat().st_size == 0
            if first_output_s is not None and silent and waited > first_output_s:
                return None, False, True, waited
            if waited > timeout_s:
                return None, True, silent, waited
            time.sleep(POLL_S)
        silent = not serial_log.exists() or serial_log.stat().st_size == 0
        return proc.returncode, False, silent, time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def kvm_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def accelerators(accel: str) -> list[str]:
    """The accelerators to try, in order, for auto, kvm or tcg."""
    if accel not in ("auto", "kvm", "tcg"):
        raise ValueError(f"accel(={accel!r}) must be auto, kvm or tcg")
    if accel != "auto":
        return [accel]
    return ["kvm", "tcg"] if kvm_usable() else ["tcg"]


def boot(kernel: Path, initrd: Path, append: str, *, timeout_s: float = 600,
         first_output_s: float = 15, mem_mib: int = 512, smp: int = 2,
         accel: str = "auto", log=print) -> GuestRun:
    """Boot once and return what the guest printed.  accel: auto, kvm or tcg."""
    order = accelerators(accel)
    with tempfile.TemporaryDirectory(prefix="study-guest-") as tmp:
        for i, acc in enumerate(order):
            serial_log = Path(tmp) / f"serial-{acc}.log"
            cmd = qemu_command(kernel, initrd, append, serial_log, acc, mem_mib, smp)
            last = i == len(order) - 1
            rc, timed_out, silent, wall_s = _run_once(
                cmd, serial_log, timeout_s, None if last else first_output_s)
            if silent and not last:
                why = f"exit status {rc}" if rc is not None else \
                    f"no console output in {first_output_s:.0f} s"
                log(f"qemu: {acc} guest failed ({why}); falling back to {order[i + 1]}")
                continue
            serial = serial_log.read_text(errors="replace") if serial_log.exists() else ""
            return GuestRun(acc, serial, rc, timed_out, wall_s, shlex.join(cmd))
    raise AssertionError("unreachable: the last accelerator always returns")
