"""A results store that survives a crash: every finished (plan, seed) is one SQLite row, committed
as it arrives, so a killed batch resumes where it stopped with nothing lost and nothing counted twice.

SQLite (the standard library's `sqlite3`) in WAL mode with `synchronous=FULL`: each commit is on disk
before the next run is started, a reader never blocks the writer, and a SIGKILL (or a power cut)
loses at most the run in flight. The primary key is (plan key, seed): the plan key is a stable hash
of the plan's overrides, so a re-run of the same grid (in any order, with more seeds or more plans)
finds what is already there. The row itself is JSON (floats round-trip exactly), readable with
`sqlite3 runs.sqlite "select json_extract(row, '$.cost_usd_month') from runs"`.

A store also records the batch it belongs to (a hash of the scenario's text and the duration):
resuming a store with another scenario's results is refused. A file simkit did not create is never
opened for writing unless `force` (then it is replaced).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from simkit.outputs import OutputError
from simkit.scenario.yamlread import shown

STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
"""An `--out` with one of these suffixes is a results store; another name is a CSV."""
_TOOL = "simkit results store"
_SCHEMA = 1
_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS runs (plan_key TEXT NOT NULL, seed INTEGER NOT NULL, plan TEXT NOT NULL,"
    " row TEXT NOT NULL, PRIMARY KEY (plan_key, seed))",
    "CREATE TABLE IF NOT EXISTS failures (plan_key TEXT NOT NULL, seed INTEGER NOT NULL,"
    " plan TEXT NOT NULL, error TEXT NOT NULL, PRIMARY KEY (plan_key, seed))",
)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (JSON's encoder knows only the built-in types)."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"cannot store a {type(value).__name__} in a results row")


def to_json(value: Any, sort_keys: bool = True) -> str:
    """JSON without spaces, numpy scalars as Python numbers, NaN kept; canonical (sorted keys) unless
    `sort_keys=False` (a row keeps its columns' order)."""
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), default=_plain)


def plan_key(overrides: Mapping[str, Any]) -> str:
    """A stable hash of a plan's overrides (the same plan, the same key, in any process or order)."""
    return hashlib.sha256(to_json(dict(overrides)).encode()).hexdigest()[:20]


def normalize(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as it reads back from the store (so a stored and an in-memory batch give equal tables)."""
    return dict(json.loads(to_json(dict(row), sort_keys=False)))


class ResultStore:
    """One batch's finished runs in an SQLite file; `add` commits each row as it arrives."""

    def __init__(self, path: str | Path, batch: str, force: bool = False, flag: str = "--out") -> None:
        self.path = Path(os.path.abspath(path))
        self.flag = flag
        try:
            if self.path.is_dir():
                raise OutputError(f"{flag} {shown(self.path)}: is a directory; give a file name")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and not self._ours():
                if not force:
                    raise OutputError(
                        f"{flag} {shown(self.path)}: exists and is not a simkit results store; "
                        "use --force to replace it"
                    )
                self._remove()
            self.db = sqlite3.connect(self.path, isolation_level=None)
        except OSError as exc:
            raise OutputError(f"{flag} {shown(self.path)}: {exc.strerror or exc}") from None
        except sqlite3.Error as exc:
            raise OutputError(f"{flag} {shown(self.path)}: {exc}") from None
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        try:
            self._start(batch, force)
        except BaseException:
            self.db.close()
            raise

    def _start(self, batch: str, force: bool) -> None:
        with self._transaction():
            for ddl in _DDL:
                self.db.execute(ddl)
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            if meta and meta.get("batch") != batch:
                if not force:
                    raise OutputError(
                        f"{self.flag} {shown(self.path)}: holds the results of another batch (another "
                        "scenario or duration); use --force to start over"
                    )
                self.db.execute("DELETE FROM runs")
                self.db.execute("DELETE FROM failures")
            new = {"tool": _TOOL, "schema": str(_SCHEMA), "batch": batch}
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", new.items())

    def _ours(self) -> bool:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
                row = db.execute("SELECT value FROM meta WHERE key = 'tool'").fetchone()
            return row is not None and row[0] == _TOOL
        except sqlite3.Error:
            return False

    def _remove(self) -> None:
        remove_store(self.path)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def done(self) -> set[tuple[str, int]]:
        """The (plan key, seed) pairs already stored."""
        return {(k, int(s)) for k, s in self.db.execute("SELECT plan_key, seed FROM runs")}

    def add(self, key: str, seed: int, plan: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        """Store one finished run (once: a pair already stored is kept as it is) and forget its failure."""
        with self._transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?)",
                (key, seed, to_json(dict(plan)), to_json(row, sort_keys=False)),
            )
            self.db.execute("DELETE FROM failures WHERE plan_key = ? AND seed = ?", (key, seed))

    def fail(self, key: str, seed: int, plan: Mapping[str, Any], error: str) -> None:
        """Record that a run failed (it is tried again when the batch is resumed)."""
        with self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?)", (key, seed, to_json(dict(plan)), error)
            )

    def rows(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Every stored run by (plan key, seed)."""
        return {
            (k, int(s)): json.loads(r) for k, s, r in self.db.execute("SELECT plan_key, seed, row FROM runs")
        }

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close it."""
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def remove_store(path: Path) -> None:
    """Delete an SQLite file with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def batch_id(*parts: Any) -> str:
    """What identifies a batch (scenario text, duration, ...): a hash of its parts."""
    return hashlib.sha256(to_json([str(p) for p in parts]).encode()).hexdigest()[:20]
