"""Run a batch of (plan, seed) jobs with joblib, on this machine or a Dask cluster; store each run as it
finishes; report a run that fails (its plan and seed) and go on with the rest.

joblib is the one parallel API: `backend="loky"` (processes, the default), `"threading"`, or
`"dask"` (joblib's Dask backend on a `distributed.Client`: `scheduler` is the scheduler's address,
e.g. `tcp://10.0.0.5:8786`, or a `Client`; none starts a local cluster). `backend=None` keeps an
enclosing `joblib.parallel_config(...)`. Each job carries its own integer seed (the engine expands
it with `SeedSequence(seed).spawn`), so the rows do not depend on the backend, the number of workers
or the order in which runs finish.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from simkit.errors import SimkitError
from simkit.store import ResultStore, normalize

BACKENDS = ("loky", "threading", "dask")
"""The joblib backends a batch may name (`--backend`)."""

_KILL_ENV = "SIMKIT_TEST_KILL_AFTER_ROWS"
"""Tests only: SIGKILL this process once this many new rows are stored."""


@dataclass(frozen=True)
class Job:
    """One run of a batch: the plan (its key and overrides), the seed, and the worker's arguments."""

    key: str
    seed: int
    plan: Mapping[str, Any]
    args: tuple[Any, ...] = field(compare=False)


@dataclass(frozen=True)
class Failure:
    """A run that raised: which plan and seed, and the error in one line."""

    key: str
    seed: int
    plan: Mapping[str, Any]
    error: str

    def __str__(self) -> str:
        plan = f"plan {dict(self.plan)}, " if self.plan else ""
        return f"{plan}seed {self.seed}: {self.error}"


@dataclass
class Outcome:
    """What a batch produced: the rows by (plan key, seed), the failures, and how many were resumed."""

    rows: dict[tuple[str, int], dict[str, Any]]
    failures: list[Failure]
    resumed: int


class BatchError(RuntimeError):
    """Runs of a batch raised; the others finished (and are in the store, if any). `failures` names
    each failed run's plan and seed, `table` holds the rest."""

    def __init__(self, failures: Sequence[Failure], table: pd.DataFrame) -> None:
        shown = "; ".join(map(str, failures[:3])) + ("; ..." if len(failures) > 3 else "")
        super().__init__(f"{len(failures)} runs failed ({shown}); the other {len(table)} finished")
        self.failures = list(failures)
        self.table = table


def finish(table: pd.DataFrame, outcome: Outcome, errors: str) -> pd.DataFrame:
    """The batch's table with its failures and resumed count in `attrs`; with `errors="raise"`, a
    `BatchError` if a run failed (`"report"`: return the rest)."""
    table.attrs["failures"] = outcome.failures
    table.attrs["resumed"] = outcome.resumed
    if errors not in ("raise", "report"):
        raise SimkitError(f"errors: expected 'raise' or 'report', got {errors!r}")
    if outcome.failures and errors == "raise":
        raise BatchError(outcome.failures, table)
    return table


def _attempt(
    index: int, fn: Callable[..., Mapping[str, Any]], args: tuple[Any, ...]
) -> tuple[int, bool, Any]:
    """Run one job in a worker; an exception becomes a one-line error (the batch goes on)."""
    try:
        return index, True, normalize(fn(*args))
    except Exception as exc:  # noqa: BLE001 - a failed replication is reported, not fatal
        message = " ".join(str(exc).split()) or type(exc).__name__
        return index, False, f"{type(exc).__name__}: {message}"


def check_backend(backend: str | None, scheduler: Any = None) -> None:
    """Refuse an unknown backend, or a scheduler without Dask, in one line."""
    if backend is not None and backend not in BACKENDS:
        raise SimkitError(f"--backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if scheduler is not None and backend != "dask":
        raise SimkitError("--scheduler: needs --backend dask")


@contextlib.contextmanager
def backend_config(backend: str | None, scheduler: Any = None) -> Iterator[None]:
    """joblib's configuration for the batch; for Dask, a client connected to `scheduler`."""
    check_backend(backend, scheduler)
    if backend is None:
        yield
        return
    if backend != "dask":
        with parallel_config(backend=backend):
            yield
        return
    try:
        from dask.distributed import Client  # the optional `simkit[dask]` extra
    except ImportError:
        raise SimkitError("--backend dask: needs the dask extra (pip install 'simkit[dask]')") from None
    if scheduler is not None and not isinstance(scheduler, str):  # a Client the caller owns
        with parallel_config(backend="dask", client=scheduler):
            yield
        return
    try:
        client = Client(scheduler, set_as_default=False) if scheduler else Client(set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SimkitError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    with client, parallel_config(backend="dask", client=client):
        yield


def run_batch(
    fn: Callable[..., Mapping[str, Any]],
    jobs: Sequence[Job],
    n_jobs: int = -1,
    backend: str | None = None,
    scheduler: Any = None,
    store: ResultStore | None = None,
    progress: bool | None = None,
) -> Outcome:
    """Run `fn(*job.args)` for every job not already in `store`; store each row as it finishes."""
    rows = store.rows() if store is not None else {}
    wanted = {(j.key, j.seed) for j in jobs}
    rows = {k: v for k, v in rows.items() if k in wanted}
    pending = [j for j in jobs if (j.key, j.seed) not in rows]
    failures: list[Failure] = []
    kill_after = int(os.environ.get(_KILL_ENV, "0") or 0)
    stored = 0
    if pending:
        with backend_config(backend, scheduler):
            runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(_attempt)(i, fn, job.args) for i, job in enumerate(pending)
            )
            bar = tqdm(
                runner,
                total=len(jobs),
                initial=len(rows),
                disable=None if progress is None else not progress,
                unit="run",
                delay=2.0,
            )
            for index, ok, value in bar:
                job = pending[index]
                if not ok:
                    failures.append(Failure(job.key, job.seed, job.plan, value))
                    if store is not None:
                        store.fail(job.key, job.seed, job.plan, value)
                    continue
                rows[job.key, job.seed] = value
                if store is not None:
                    store.add(job.key, job.seed, job.plan, value)
                    stored += 1
                    if stored == kill_after:
                        os.kill(os.getpid(), signal.SIGKILL)
    order = {(j.key, j.seed): i for i, j in enumerate(jobs)}
    failures.sort(key=lambda f: order[f.key, f.seed])
    return Outcome(rows, failures, len(jobs) - len(pending))
