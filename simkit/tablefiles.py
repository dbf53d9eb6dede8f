"""A run's tables as files (`simkit run --out`): Parquet or CSV, a choice of tables, a coarser
resolution for the per-tick tables of long runs.

Parquet (Apache Arrow's columnar format, written with pyarrow and zstd compression) is the default:
a month of the seed platform is ~6 MB against ~130 MB of CSV and is written in a fraction of the
time; `pandas.read_parquet` gives the same DataFrame back. CSV stays on request (`--format csv`).

Downsampling (`--resolution 5m`) merges the ticks of the per-tick tables (services, routes, queues)
into buckets of that length starting at t=0 (`t_s` is the bucket's start), per key, as each column's
`Column.agg` says: `mean` for rates and utilizations (load_rps, utilization, p_wait, wait_ms_mean),
`max` for latency quantiles, task ages and backlogs (so a spike stays visible), `last` for counts
of things that exist (ready_replicas, consumers), `sum` for counts of things that happened in the
tick (arrivals, served, requests, errors, timeouts, lost, completed: totals are kept). Event-style
tables (nodes, replicas, decisions, ...) are a row per change and are written whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd
import pyarrow as pa

from simkit.errors import SimkitError
from simkit.tables import TABLES, Table

FORMATS = ("parquet", "csv")
ALWAYS = ("checks", "cost", "nodes", "replicas")
"""Written whatever `--tables` says: small, and what `simkit report` and `simkit diff` read."""


def select(names: str | Iterable[str] | None, flag: str = "--tables") -> list[str]:
    """The tables to write, in registry order: those named (comma-separated) plus `ALWAYS`; None: all.
    An unknown name is an input error naming the known ones."""
    if names is None:
        return list(TABLES)
    wanted = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    unknown = [n for n in wanted if n not in TABLES]
    if unknown or not any(wanted):
        raise SimkitError(
            f"{flag} {','.join(wanted)}: expected table names separated by commas, from "
            f"{', '.join(TABLES)}" + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    return [n for n in TABLES if n in wanted or n in ALWAYS]


def downsample(spec: Table, frame: pd.DataFrame, seconds: float) -> pd.DataFrame:
    """`frame` (a per-tick table of `spec`) merged into buckets of `seconds` per key, each column
    aggregated by its `Column.agg`; a table that is not per-tick is returned as it is."""
    if not spec.per_tick or frame.empty:
        return frame
    keys = [c.name for c in spec.columns if not c.agg and c.name != "t_s"]
    how = {c.name: c.agg for c in spec.columns if c.agg}
    bucket = (frame["t_s"] // seconds) * seconds
    out = frame.groupby([bucket, *[frame[k] for k in keys]], sort=False).agg(how).reset_index()
    return out[list(spec.names)]


def encode(frame: pd.DataFrame, fmt: str) -> bytes:
    """One table as the bytes of a Parquet (zstd) or CSV file."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    import pyarrow.parquet as pq  # not imported by a plain run (pyarrow itself is, by pandas)

    buf = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, buf, compression="zstd", use_dictionary=dictionary_columns(table.schema))
    return buf.getvalue()


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary-encoding: all but the floating-point ones.

    Names and labels repeat on every row (a service's name 43,200 times a month), so their dictionary
    is a few entries; the float columns of the per-tick tables are mostly distinct values, for which
    pyarrow's writer (`use_dictionary`, on for every column by default) builds a dictionary until it
    outgrows `dictionary_pagesize_limit` (1 MB) and then falls back to plain encoding, work thrown
    away: without it a month's services table is written in about two thirds of the time, ~18% larger
    after zstd. The values read back are the same either way (an encoding, not a type).
    """
    return [f.name for f in schema if not pa.types.is_floating(f.type)]
