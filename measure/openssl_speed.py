"""`openssl speed -evp chacha20`: the CPU's own best ChaCha20 rate.

The vDSO's getrandom() is ChaCha20 too; for large requests it competes with
what the CPU can do at best.  `make calibrate` runs this at the sizes of
callcost so that Q1 can set the vDSO's and the syscall's bytes/s against it
(issue 14, item 5).  OpenSSL times with the process's CPU time (times(2)),
so `bytes_per_s` is per busy CPU second.
"""
from __future__ import annotations

import re
import shutil
import subprocess

OPENSSL = "openssl"
# -mr output: "+R:<count>:ChaCha20:<seconds>" (on stderr), "+F:<n>:ChaCha20:<bytes per s>"
RESULT_RE = re.compile(r"^\+R:(\d+):ChaCha20:([0-9.]+)$", re.M)
RATE_RE = re.compile(r"^\+F:\d+:ChaCha20:([0-9.]+)$", re.M)


class OpensslError(RuntimeError):
    pass


def available() -> bool:
    return shutil.which(OPENSSL) is not None


def version() -> str:
    out = subprocess.run([OPENSSL, "version"], capture_output=True, text=True, timeout=10)
    return out.stdout.split("(")[0].strip().replace(" ", "-") or "unknown"


def command(size_bytes: int, seconds: int = 1) -> list[str]:
    return [OPENSSL, "speed", "-evp", "chacha20", "-bytes", str(size_bytes),
            "-seconds", str(seconds), "-mr"]


def parse(text: str, size_bytes: int) -> dict:
    """One -mr run of one size into calls, cpu_s, bytes_per_s and ns_per_call."""
    result, rate = RESULT_RE.search(text), RATE_RE.search(text)
    if not result or not rate:
        raise OpensslError(f"openssl speed: unreadable output for {size_bytes} bytes: "
                           f"{text.strip()[-80:]!r}")
    calls, cpu_s, bytes_per_s = int(result.group(1)), float(result.group(2)), float(rate.group(1))
    if calls <= 0 or bytes_per_s <= 0:
        raise OpensslError(f"openssl speed: no work measured for {size_bytes} bytes")
    return {"size_bytes": size_bytes, "calls": calls, "cpu_s": cpu_s,
            "bytes_per_s": round(bytes_per_s),
            "ns_per_call": round(size_bytes / bytes_per_s * 1e9, 2)}


def speed(size_bytes: int, seconds: int = 1, timeout_s: float = 120) -> dict:
    out = subprocess.run(command(size_bytes, seconds), capture_output=True, text=True,
                         timeout=timeout_s)
    if out.returncode:
        last = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
        raise OpensslError(f"openssl speed -evp chacha20 -bytes {size_bytes}: {last}")
    return parse(out.stdout + out.stderr, size_bytes)    # +R goes to stderr
