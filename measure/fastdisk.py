"""A fast disk for page-cache churn: ext4 on a loop device backed by tmpfs.

The states campaign's reader churned 2.1-2.5 GiB/s from ext4 on this VM's
disk (2026-11-30); every run since has read 1.2-2.0 GiB/s there, and the
harness can pace a reader only below what its disk gives.  ext4 on a loop
device whose backing file is in /dev/shm reads back at several GiB/s, each
read a real miss (the loop device's read counter grows by the file's size
every pass) charged to the reader's memcg as any file's page cache is; the
backing file's pages are shmem charged where this process runs, outside
the harness's memcg.  A fresh file system for every run, at one mount
point, so that a run's harness command (what --resume matches) stays the
same.
"""
import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

MOUNT = Path("/run/study-fastdisk")
IMAGE_MIB = 768          # the harness writes a 512 MiB churn file into it


class FastDiskError(RuntimeError):
    pass


def _run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise FastDiskError(f"{' '.join(argv)}: {last}")
    return result.stdout.strip()


@contextlib.contextmanager
def fast_disk(enabled: bool, mount: Path = MOUNT, image_mib: int = IMAGE_MIB):
    """Mounts a fresh tmpfs-backed ext4 at `mount` while the block runs
    (nothing when not enabled); yields the mount point.  Unmounted, the loop
    device detached and the image removed on every way out."""
    if not enabled:
        yield None
        return
    if os.path.ismount(mount):
        raise FastDiskError(f"{mount} is already mounted: another run's, or not ours")
    fd, image = tempfile.mkstemp(dir="/dev/shm", prefix="study-fastdisk.")
    loop = None
    try:
        os.ftruncate(fd, image_mib << 20)
        os.close(fd)
        fd = None
        loop = _run("losetup", "--find", "--show", image)
        _run("mkfs.ext4", "-q", loop)
        mount.mkdir(exist_ok=True)
        _run("mount", loop, str(mount))
        yield mount
    finally:
        if fd is not None:
            os.close(fd)
        # Lazily: a harness killed mid-run may still hold its churn file
        # open; the file system goes when it lets go, and `losetup -d` of a
        # device still in use detaches it then (autoclear).
        if os.path.ismount(mount):
            _run("umount", "--lazy", str(mount))
        if loop:
            _run("losetup", "-d", loop)
        os.unlink(image)
        with contextlib.suppress(OSError):
            mount.rmdir()
