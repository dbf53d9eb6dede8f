"""Per-tick float64 columns of the traffic model, stored in pages: zero pages shared, equal pages shared.

Why (issue 16, peak memory): a month at 60 s ticks is 43,200 values per column, and each queueing
stream keeps ~15 columns (`engine.traffic._FIELDS`); a platform of hundreds of streams held 1 GB of
them, most of it zeros (timeouts, lost tasks, fluid delays and band flags are zero in most streams)
or copies (the K copies of a service in `bench/kplatform.py` compute the same bits). A `PagedColumn`
starts as shared read-only zero pages and allocates a page only when a non-zero value is written
into it; a `PagePool` replaces each finished page of a stream that may have a twin by the pool's
page of the same bits (copy on write: a later write into a shared page copies it first), and at the
end joins a column into one read-only array, the same array object for columns of the same pages.

Exactness: pages are compared by their raw bits (0.0 and -0.0, NaN payloads differ), so a column
reads back exactly the values written into it; only where they are stored changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PAGE", "PagePool", "PagedColumn"]

PAGE = 2048  # ticks per page (16 KiB of float64): a day and a half at 60 s, five pages for a week
_ZERO = np.zeros(PAGE)
_ZERO.setflags(write=False)
_MULT = np.random.default_rng(16).integers(1, 2**63, PAGE, dtype=np.uint64) | np.uint64(1)
"""Odd multipliers of a page's weighted-sum digest (a fixed draw; equal digests are verified by bits)."""


def _is_zero_bits(value: Any) -> bool:
    """Whether `value` (a scalar or an array, as float64) is all +0.0 bit patterns."""
    a = np.ascontiguousarray(value, dtype=np.float64)
    return not a.view(np.uint64).any()


class PagedColumn:
    """A float64 column of `n` values in pages of `PAGE`; reads and writes like a 1-d numpy array for
    what the traffic model does with it (int and slice writes, int and int-array reads, `.item`)."""

    __slots__ = ("n", "pages", "private")

    def __init__(self, n: int) -> None:
        self.n = n
        self.pages: list[np.ndarray] = [_ZERO] * -(-n // PAGE)
        self.private: set[int] = set()  # pages this column owns (writable); the others are shared

    def __len__(self) -> int:
        return self.n

    def _own(self, p: int) -> np.ndarray:
        if p not in self.private:
            self.pages[p] = self.pages[p].copy()
            self.private.add(p)
        return self.pages[p]

    def __setitem__(self, idx: int | slice, value: Any) -> None:
        if type(idx) is not slice:
            p, o = divmod(int(idx), PAGE)  # type: ignore[call-overload]
            if p not in self.private:
                if self.pages[p] is _ZERO and _is_zero_bits(value):
                    return
                self._own(p)
            self.pages[p][o] = value
            return
        a, b, step = idx.indices(self.n)
        if step != 1:
            raise IndexError("PagedColumn: only contiguous slices")
        if b <= a:
            return
        first, last = a // PAGE, (b - 1) // PAGE
        scalar = np.ndim(value) == 0
        for p in range(first, last + 1):
            lo, hi = max(a, p * PAGE), min(b, (p + 1) * PAGE)
            chunk = value if scalar or first == last else value[lo - a : hi - a]
            if p not in self.private:
                if self.pages[p] is _ZERO and _is_zero_bits(chunk):
                    continue
                self._own(p)
            self.pages[p][lo - p * PAGE : hi - p * PAGE] = chunk

    def __getitem__(self, idx: Any) -> Any:
        if type(idx) is int or isinstance(idx, np.integer):
            p, o = divmod(int(idx) % self.n if idx < 0 else int(idx), PAGE)
            return self.pages[p][o]
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise IndexError("PagedColumn: int or int-array indices only")
        if not idx.size:
            return np.empty(idx.shape)
        idx = np.where(idx < 0, idx + self.n, idx)
        first, last = int(idx.min()) // PAGE, int(idx.max()) // PAGE
        if first == last:
            return self.pages[first][idx - first * PAGE]
        return np.concatenate(self.pages[first : last + 1])[idx - first * PAGE]

    def item(self, i: int) -> float:
        p, o = divmod(i, PAGE)
        return float(self.pages[p].item(o))

    def join(self) -> np.ndarray:
        """The whole column as one new array."""
        if all(page is _ZERO for page in self.pages):
            return np.zeros(self.n)
        return np.concatenate(self.pages)[: self.n]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.join()
        return out if dtype is None else out.astype(dtype)

    def tobytes(self) -> bytes:
        return self.join().tobytes()


class PagePool:
    """Pages and whole arrays of one traffic model, shared by content (see the module docstring)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._pages: dict[int, list[np.ndarray]] = {}
        self._arrays: dict[tuple[int, bytes], list[np.ndarray]] = {}
        self._joined: dict[tuple[int, ...], np.ndarray] = {}
        self.zeros = np.zeros(n)  # every all-zero column, joined (untouched zero memory: no RSS)
        self.zeros.setflags(write=False)

    def seal(self, column: PagedColumn, upto: int) -> None:
        """Share the column's own pages that lie wholly before tick `upto` (or end with the column)."""
        for p in [p for p in column.private if min((p + 1) * PAGE, column.n) <= upto]:
            column.pages[p] = self._intern_page(column.pages[p])
            column.private.discard(p)

    def _intern_page(self, page: np.ndarray) -> np.ndarray:
        bits = page.view(np.uint64)
        if not bits.any():
            return _ZERO
        bucket = self._pages.setdefault(int((bits * _MULT).sum()), [])
        for q in bucket:
            if np.array_equal(q.view(np.uint64), bits):
                return q
        page.setflags(write=False)
        bucket.append(page)
        return page

    def join(self, column: PagedColumn) -> np.ndarray:
        """The column as a read-only array; columns made of the same shared pages get the same one."""
        if column.private:  # pages of its own: nothing to share with
            out = column.join()
            out.setflags(write=False)
            return out
        key = tuple(map(id, column.pages))  # shared pages live in the pool: ids stay theirs
        if key not in self._joined:
            self._joined[key] = self.zeros if all(p is _ZERO for p in column.pages) else column.join()
            self._joined[key].setflags(write=False)
        return self._joined[key]

    def intern(self, a: np.ndarray) -> np.ndarray:
        """`a`, or an earlier array of the same dtype, shape and bits (then read-only, shared)."""
        a = np.ascontiguousarray(a)
        raw = a.reshape(-1).view(np.uint8)
        key = (hash((a.dtype.str, a.shape)), raw[:: max(1, raw.size // 4096)].tobytes())
        bucket = self._arrays.setdefault(key, [])
        for b in bucket:
            same = b.dtype == a.dtype and b.shape == a.shape
            if same and np.array_equal(b.reshape(-1).view(np.uint8), raw):
                return b
        a.setflags(write=False)
        bucket.append(a)
        return a
