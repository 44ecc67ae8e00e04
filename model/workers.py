"""Where a sweep's runs execute: in this process, local processes, or Dask.

Each backend has the same two calls: submit(task) and next_done() -> (task,
outcome).  Runs are independent and seeded by their task alone, so the
backend and the order of completion never change a number; the sweep sorts
before it writes.

A run's own exception comes back as an outcome, not raised, so one broken
grid point cannot sink the sweep.  A worker that dies under a run (killed,
out of memory) is reported the same way.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
import traceback
from collections import deque
from dataclasses import dataclass

from .simulation import simulate


@dataclass(frozen=True)
class Task:
    point: int
    design: str
    replication: int
    seed: int
    scenario: object        # model.Scenario, overrides applied
    costs: object           # model.costs.Costs
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
    def __init__(self, workers: int):
        self.pool = cf.ProcessPoolExecutor(max_workers=workers)
        self.futures: dict = {}

    def submit(self, task: Task) -> None:
        self.futures[self.pool.submit(run_task, task)] = task

    def pending(self) -> int:
        return len(self.futures)

    def next_done(self):
        done, _ = cf.wait(list(self.futures), return_when=cf.FIRST_COMPLETED)
        future = min(done, key=lambda f: _order(self.futures[f]))
        task = self.futures.pop(future)
        try:
            return task, future.result()
        except cf.process.BrokenProcessPool:
            # A worker died (OOM killer, signal): the pool is unusable, so
            # start a fresh one and resubmit what was queued behind it.
            self._restart()
            return task, {"error": "worker process died during the run"}

    def _restart(self) -> None:
        workers = self.pool._max_workers
        self.pool.shutdown(wait=False, cancel_futures=True)
        queued = list(self.futures.values())
        self.futures.clear()
        self.pool = cf.ProcessPoolExecutor(max_workers=workers)
        for task in queued:
            self.submit(task)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class Dask:
    """A dask.distributed cluster at `address` (tcp://host:port)."""

    def __init__(self, address: str):
        from distributed import Client, as_completed
        self.client = Client(address, set_as_default=False)
        self.done = as_completed()
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


def _order(task: Task):
    return task.point, task.replication, task.design


def backend(workers: int, dask_address: str | None):
    if dask_address:
        return Dask(dask_address)
    if workers <= 1:
        return InProcess()
    return LocalProcesses(workers)
