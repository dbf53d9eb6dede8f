"""Paged, content-shared columns (`engine.columns`, issue 16's peak memory) read back what was written.

* a `PagedColumn` under any sequence of slice and element writes, with pages shared through a
  `PagePool` between writes (twins written alike and apart), reads exactly like a plain numpy array
  written the same way: element, index-array and `.item` reads, and the joined array, bit for bit
  (0.0 versus -0.0 kept apart); a write into one column never changes its twin;
* equal columns join to the same read-only array, all-zero ones to the pool's zeros;
* `PagePool.intern` shares arrays only of the same dtype, shape and bits;
* `ContentMemo(share=True)` hands out read-only arrays equal to the function's, and copies of the rest.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.engine.columns import PAGE, PagedColumn, PagePool
from simkit.engine.content_memo import ContentMemo

N = 2 * PAGE + 37  # three pages, the last one partial
VALUES = st.sampled_from([0.0, -0.0, 1.0, 2.5, np.nan, np.inf, 1e-300])
WRITES = st.lists(
    st.tuples(
        st.sampled_from(["slice", "item", "seal"]),
        st.integers(0, N - 1),
        st.integers(1, PAGE + 50),
        VALUES,
        st.booleans(),  # also write the twin alike
    ),
    max_size=40,
)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


@settings(max_examples=150, deadline=None)
@given(writes=WRITES)
def test_paged_column_reads_back_what_a_numpy_array_would(
    writes: list[tuple[str, int, int, float, bool]],
) -> None:
    pool = PagePool(N)
    cols, plain = [PagedColumn(N), PagedColumn(N)], [np.zeros(N), np.zeros(N)]
    for step, (op, at, length, value, both) in enumerate(writes):
        for i in (0, 1) if both else (0,):
            if op == "seal":
                pool.seal(cols[i], at)
            elif op == "slice":
                b = min(N, at + length)
                with np.errstate(invalid="ignore"):  # inf x 0
                    ramp = value * np.arange(b - at) if step % 2 else np.full(b - at, value)
                cols[i][at:b] = ramp
                plain[i][at:b] = ramp
            else:
                cols[i][at] = value
                plain[i][at] = value
        for col, ref in zip(cols, plain, strict=True):
            idx = np.array([0, at, N - 1, at // 2])
            assert _bits(col[idx]) == _bits(ref[idx])
            assert _bits(np.array([col[at], col.item(at)])) == _bits(np.array([ref[at], ref[at]]))
    for col, ref in zip(cols, plain, strict=True):
        assert col.tobytes() == ref.tobytes()
        pool.seal(col, N)
        joined = pool.join(col)
        assert joined.tobytes() == ref.tobytes() and not joined.flags.writeable
    if plain[0].tobytes() == plain[1].tobytes():
        assert pool.join(cols[0]) is pool.join(cols[1])


def test_zero_columns_allocate_nothing_and_join_to_the_pools_zeros() -> None:
    pool = PagePool(N)
    col = PagedColumn(N)
    col[0:N] = np.zeros(N)
    col[5] = 0.0
    assert not col.private
    assert pool.join(col) is pool.zeros
    col[5] = -0.0  # not the same bits as 0.0: stored
    assert col.private == {0}
    pool.seal(col, N)
    assert pool.join(col)[5].tobytes() == np.float64(-0.0).tobytes()


def test_a_shared_page_is_copied_before_a_write() -> None:
    pool = PagePool(N)
    a, b = PagedColumn(N), PagedColumn(N)
    a[0:PAGE] = b[0:PAGE] = np.arange(PAGE, dtype=float)
    pool.seal(a, N)
    pool.seal(b, N)
    assert a.pages[0] is b.pages[0] and not a.pages[0].flags.writeable
    a[3] = -1.0
    assert b[3] == 3.0 and a[3] == -1.0


def test_intern_shares_only_the_same_dtype_shape_and_bits() -> None:
    pool = PagePool(4)
    x = pool.intern(np.arange(6.0))
    assert pool.intern(np.arange(6.0)) is x and not x.flags.writeable
    assert pool.intern(np.arange(6.0).reshape(2, 3)) is not x
    assert pool.intern(np.arange(6, dtype=np.int64)) is not x
    y = np.arange(6.0)
    y[0] = -0.0
    assert pool.intern(y) is not x


def test_content_memo_share_hands_out_read_only_arrays() -> None:
    calls: list[int] = []

    def f(a: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        calls.append(1)
        return a * 2, {"sum": float(a.sum())}

    memo = ContentMemo(f, enabled=True, share=True)
    first = memo(np.arange(4.0))
    again = memo(np.arange(4.0))
    assert len(calls) == 1 and memo.hits == 1
    assert again[0] is first[0] and again[1] is not first[1] and again[1] == first[1]
    np.testing.assert_array_equal(again[0], np.arange(4.0) * 2)
    with pytest.raises(ValueError):
        again[0][0] = 5.0
