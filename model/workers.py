"""Where a sweep's runs execute: in this process, local processes, or Dask.

Each backend has the same two calls: submit(task) and next_done() -> (task,
outcome).  Runs are independent and seeded by their task alone, so the
backend and the order of completion never change a number; the sweep sorts
before it writes.

A run's own exception comes back as an outcome, not raised, so one broken
grid point cannot sink the sweep.  A worker that dies under a run (killed,
out of memory) is reported the same way.  Local workers die with the sweep
that started them, even by SIGKILL; a Dask scheduler that cannot be reached
is one line within seconds (BackendError).
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import os
import signal
import socket
import sys
import traceback
from collections import deque
from dataclasses import dataclass

from .sim.simulation import simulate

# Local workers per CPU at most: the runs are CPU-bound, so more only costs
# memory (each worker is a Python process of about 100 MB).
MAX_WORKERS_PER_CPU = 4
CONNECT_TIMEOUT_S = 5
PR_SET_PDEATHSIG = 1        # include/uapi/linux/prctl.h


class BackendError(ValueError):
    """A backend that cannot start; str() is the one-line message."""


def max_workers() -> int:
    return MAX_WORKERS_PER_CPU * (os.cpu_count() or 1)


@dataclass(frozen=True)
class Task:
    point: int
    design: str
    replication: int
    seed: int
    scenario: object        # model.Scenario, overrides applied
    costs: object           # model.sim.costs.Costs
    key: str                # runcache key


def run_task(task: Task) -> dict:
    """{"metrics": {name: value}} or {"error": one line}; never raises."""
    try:
        result = simulate(task.scenario, task.design, seed=task.seed,
                          replication=task.replication, costs=task.costs)
        metrics = result.metrics
        return {"metrics": dict(zip(metrics["metric"], map(float, metrics["value"])))}
    except Exception as e:  # noqa: BLE001 - any model bug is one failed run
        where = traceback.extract_tb(e.__traceback__)[-1]
        return {"error": f"{type(e).__name__}: {e} "
                         f"({os.path.basename(where.filename)}:{where.lineno})"
                         .replace("\n", " ")}


class InProcess:
    """One worker: runs each task when its result is asked for."""

    def __init__(self):
        self.queue: deque = deque()

    def submit(self, task: Task) -> None:
        self.queue.append(task)

    def pending(self) -> int:
        return len(self.queue)

    def next_done(self):
        task = self.queue.popleft()
        return task, run_task(task)

    def close(self) -> None:
        self.queue.clear()


class LocalProcesses:
    """A ProcessPoolExecutor fed a few runs at a time, that survives a worker's death.

    When a worker dies (OOM killer, a signal) the pool breaks and every run
    in flight fails with BrokenProcessPool, the innocent with the guilty.
    So only a few runs are in flight at once, and after a break each of them
    is rerun alone in a fresh pool: a run that kills that one too is
    reported as failed, the others go on.
    """
    IN_FLIGHT_PER_WORKER = 2

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = self._pool()
        self.futures: dict = {}        # in flight: future -> task
        self.queue: deque = deque()    # not yet handed to the pool
        self.suspects: deque = deque()  # in flight when the pool broke: run alone
        self.ready: deque = deque()    # (task, outcome) known without waiting
        self.alone = False

    def submit(self, task: Task) -> None:
        self.queue.append(task)

    def pending(self) -> int:
        return len(self.futures) + len(self.queue) + len(self.suspects) + len(self.ready)

    def _fill(self) -> None:
        if self.alone and self.futures:
            return
        self.alone = False
        if self.suspects:
            if not self.futures:
                self.alone = self._start(self.suspects)
            return
        while self.queue and len(self.futures) < self.workers * self.IN_FLIGHT_PER_WORKER:
            if not self._start(self.queue):
                return

    def _start(self, waiting: deque) -> bool:
        """Hand the first waiting task to the pool; False if the pool broke."""
        task = waiting.popleft()
        try:
            future = self.pool.submit(run_task, task)
        except cf.process.BrokenProcessPool:
            # A worker died since the last wait: this task never ran.
            waiting.appendleft(task)
            self._restart()
            return False
        self.futures[future] = task
        return True

    def next_done(self):
        while not self.ready:
            self._fill()
            if self.ready or not self.futures:
                continue
            done, _ = cf.wait(list(self.futures), return_when=cf.FIRST_COMPLETED)
            if any(f.cancelled() or isinstance(f.exception(), cf.process.BrokenProcessPool)
                   for f in done):
                self._restart()
                continue
            future = min(done, key=lambda f: _order(self.futures[f]))
            return self.futures.pop(future), future.result()
        return self.ready.popleft()

    def _restart(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        was_alone = self.alone
        for future, task in sorted(self.futures.items(), key=lambda ft: _order(ft[1])):
            # Cancelled by the shutdown, or broken: either way it may not have run.
            if future.done() and not future.cancelled() and future.exception() is None:
                self.ready.append((task, future.result()))
            elif was_alone:
                self.ready.append((task, {"error": "worker process died during the run "
                                                   "(killed or out of memory)"}))
            else:
                self.suspects.append(task)
        self.futures.clear()
        self.alone = False
        self.pool = self._pool()

    def _pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, initializer=die_with_parent,
                                      initargs=(os.getpid(),))

    def close(self) -> None:
        self.queue.clear()
        self.suspects.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: the kernel SIGKILLs this worker when its parent dies.

    prctl(PR_SET_PDEATHSIG) fires when the thread that forked the worker
    exits; ProcessPoolExecutor forks from the thread that submits, the
    sweep's.  A parent that died before the prctl is caught by getppid().
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


class Dask:
    """A dask.distributed cluster at `address` (tcp://host:port)."""

    def __init__(self, address: str):
        _reachable(address)
        from distributed import Client, as_completed
        try:
            self.client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            raise BackendError(f"--dask {address}: {e}".replace("\n", " ")) from None
        self.done = as_completed(loop=self.client.loop)
        self.futures: dict = {}

    def submit(self, task: Task) -> None:
        future = self.client.submit(run_task, task, pure=False)
        self.futures[future.key] = (future, task)
        self.done.add(future)

    def pending(self) -> int:
        return len(self.futures)

    def next_done(self):
        future = next(self.done)
        _, task = self.futures.pop(future.key)
        try:
            return task, future.result()
        except Exception as e:  # noqa: BLE001 - KilledWorker, lost connection
            return task, {"error": f"dask: {type(e).__name__}: {e}".replace("\n", " ")}
        finally:
            future.release()

    def close(self) -> None:
        if self.futures:
            self.client.cancel([future for future, _ in self.futures.values()])
        self.client.close()


def _reachable(address: str) -> None:
    """Refuse a malformed address at once, and a TCP one nobody answers within
    CONNECT_TIMEOUT_S: distributed.Client would retry for 30 s, then print a
    traceback from its own teardown."""
    from distributed.comm.addressing import parse_address, parse_host_port
    try:
        scheme, location = parse_address(address, strict=True)
        if scheme not in ("tcp", "tls"):
            return                              # inproc:// etc.: nothing to dial
        host, port = parse_host_port(location)
        if not 0 < port < 65536:
            raise ValueError(port)
    except ValueError:
        raise BackendError(f"--dask {address}: not a scheduler address "
                           f"(expected tcp://HOST:PORT)") from None
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except socket.timeout:
        raise BackendError(f"--dask {address}: no answer within {CONNECT_TIMEOUT_S} s") \
            from None
    except OSError as e:
        raise BackendError(f"--dask {address}: {e.strerror or e}") from None


def _order(task: Task):
    return task.point, task.replication, task.design


def backend(workers: int, dask_address: str | None):
    if dask_address:
        return Dask(dask_address)
    if workers <= 1:
        return InProcess()
    return LocalProcesses(workers)
