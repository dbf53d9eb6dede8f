"""The Monte Carlo speed-ups (issue 16 item 2) change no result.

* the CPU-credit check of a run reads the traffic model's arrays (`api._Usage.credits` through
  `traffic.usage_columns` and `burstable.cpu_use`) instead of building the services and queues
  tables: the same credit runs as `credit_runs` on the whole built tables, bit for bit, on the
  default platform and a K = 3 platform, in a week of different seeds;
* the CPU-use estimates' narrow tables (`traffic.usage_table`) are the whole tables' columns;
* `ContentMemo`'s word-sum digest finds equal arrays and never confuses different ones (the hit is
  checked byte for byte; hypothesis).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import simkit
import simkit.api as api
from bench.kplatform import platform
from simkit.analysis.burstable import cpu_use, credit_runs, credit_table
from simkit.engine.content_memo import ContentMemo
from simkit.engine.traffic import USAGE_COLUMNS, usage_table

WEEK_S = 7 * 86400.0


@pytest.mark.parametrize(("k", "seed"), [(1, 3), (1, 11), (3, 5)])
def test_credit_check_from_the_arrays_equals_the_tables_path(
    k: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counted(*args: object) -> object:
        calls.append(1)
        return cpu_use(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "cpu_use", counted)
    result = simkit.simulate(platform(k), seed=seed, duration=WEEK_S / k, progress=False)
    fast = result.cpu_credits  # built through `_Usage.credits`: the arrays, not the tables
    assert calls and len(fast) > 0  # the seed platform has burstable pools: the path is exercised
    tables = (result.services, result.queues, result.replicas, result.nodes)
    reference = credit_table(credit_runs(result.scenario, *tables))
    pd.testing.assert_frame_equal(fast, reference, check_exact=True)


def test_usage_tables_are_the_whole_tables_columns() -> None:
    result = simkit.simulate(platform(2), seed=2, duration=86400.0, progress=False)
    for name, columns in USAGE_COLUMNS.items():
        deferred = result.__dict__[name]  # still unbuilt: the narrow table is built from it
        narrow = usage_table(deferred, name)
        whole = getattr(result, name)
        assert len(narrow) == len(whole) > 0
        pd.testing.assert_frame_equal(
            narrow, whole[[c for c in whole.columns if c in columns]], check_exact=True
        )


WORDS = hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=100, deadline=None)
@given(a=WORDS, i=st.integers(0, 39))
def test_memo_digest_finds_equal_arrays_and_no_others(a: np.ndarray, i: int) -> None:
    memo = ContentMemo(lambda x: x.tobytes(), enabled=True)
    assert memo(a) == a.tobytes() and memo(a.copy()) == a.tobytes() and memo.hits == 1
    b = a.copy()
    b.view(np.uint64)[i % a.size] ^= np.uint64(1)  # one bit of one word
    assert memo(b) == b.tobytes() and memo.misses == 2
