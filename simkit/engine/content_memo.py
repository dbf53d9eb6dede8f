"""Compute a pure function once per distinct input *content*: route latency once per (path, capacity).

A platform of many services often has routes whose inputs are the same bit for bit — copies of
one service chain under the same share of the load, on the same capacity timeline (issue 16:
"route latency computed once per distinct (route, capacity state)"). `ContentMemo` wraps a pure,
deterministic function (here `engine.traffic.route_windows`); a call whose arguments have the same
bytes as an earlier call's returns copies of that call's result instead of computing it again.

Arguments must not be mutated after a call (the memo keeps references to them, not copies).
Exactness: a hit needs every argument equal in content — each array's dtype, shape and raw bytes,
every other leaf by `==` of its type and value — checked leaf by leaf against the stored arguments,
not only by the digest that finds the candidate. The same input bits through the same function
give the same output bits, so every table is identical with or without the memo
(tests/test_scale_identical.py runs both).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["ContentMemo", "MEMO_ENABLED", "shared_across_runs"]

MEMO_ENABLED = True  # tests turn it off to compare with the plain path
SHARE_ACROSS_RUNS = True  # inside `shared_across_runs`, reuse earlier runs' results; tests turn it off

R = TypeVar("R")

_Leaf = tuple[str, Any]


def _leaves(value: Any) -> Iterator[_Leaf]:
    """The argument's content as (kind, value) leaves, in a fixed order (arrays as dtype, shape, bytes)."""
    if isinstance(value, np.ndarray):
        yield ("array", (value.dtype.str, value.shape))
        yield ("bytes", np.ascontiguousarray(value))
    elif isinstance(value, np.generic):
        yield ("scalar", (value.dtype.str, value.tobytes()))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield ("class", type(value).__qualname__)
        for f in dataclasses.fields(value):
            yield from _leaves(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        yield ("seq", (type(value).__qualname__, len(value)))
        for item in value:
            yield from _leaves(item)
    elif value is None or isinstance(value, bool | int | float | str):
        yield ("value", (type(value).__name__, value))
    else:
        raise TypeError(f"ContentMemo cannot compare a {type(value).__name__}")


def _same(a: list[_Leaf], b: list[_Leaf]) -> bool:
    """Leaf by leaf: arrays by raw bytes, floats by bits (NaN == NaN, 0.0 != -0.0), the rest by ==."""
    if len(a) != len(b):
        return False
    for (ka, va), (kb, vb) in zip(a, b, strict=True):
        if ka != kb:
            return False
        if ka == "bytes":
            if va is vb:
                continue  # the same array object (arguments are not mutated between calls)
            if va.shape != vb.shape or not np.array_equal(_raw(va), _raw(vb)):
                return False
        elif ka == "value" and va[0] == "float":
            if np.float64(va[1]).tobytes() != np.float64(vb[1]).tobytes():
                return False
        elif va != vb:
            return False
    return True


def _raw(a: np.ndarray) -> np.ndarray:
    """The array's bytes as a flat uint8 view (compared exactly: bit patterns, not float values)."""
    return a.reshape(-1).view(np.uint8)


class _ArrayDigests:
    """Each array's digest once per memo: services shared by many routes are hashed once.

    Keyed by object identity, holding the array so its id cannot be reused while the memo lives.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[np.ndarray, bytes]] = {}

    def __call__(self, a: np.ndarray) -> bytes:
        hit = self._by_id.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
        digest = _array_digest(_raw(a))
        self._by_id[id(a)] = (a, digest)
        return digest


_WEIGHTS: dict[int, np.ndarray] = {}  # per number of 64-bit words: the digest's odd multipliers


def _array_digest(raw: np.ndarray) -> bytes:
    """A digest of an array's bytes: their 64-bit words' weighted sum (wrapping, fixed random odd
    weights), ~30x cheaper than blake2b, which a Monte Carlo run paid on every route's arrays. It only
    finds candidates: a hit is still checked byte for byte (`_same`), so a collision costs a look,
    never a wrong answer. Byte counts not a multiple of 8 go to blake2b."""
    if raw.size % 8 or not raw.size:
        return hashlib.blake2b(raw.data, digest_size=16).digest()
    words = raw.view(np.uint64)
    weights = _WEIGHTS.get(words.size)
    if weights is None:
        rng = np.random.default_rng(words.size)
        weights = _WEIGHTS[words.size] = rng.integers(1, 2**63, words.size, dtype=np.uint64) | np.uint64(1)
    return int((words * weights).sum(dtype=np.uint64)).to_bytes(8, "little") + raw.size.to_bytes(8, "little")


def _digest(leaves: list[_Leaf], arrays: _ArrayDigests) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for kind, value in leaves:
        h.update(kind.encode())
        h.update(arrays(value) if kind == "bytes" else repr(value).encode())
    return h.digest()


SHARED_ENTRIES = 64  # distinct inputs kept per function across runs (least recently used dropped) ...
SHARED_BYTES = 128 * 2**20  # ... and array bytes (arguments and results) kept in all, per process:
# past it nothing new is kept (the first runs' entries stay: evicting in LRU order would make a batch
# whose runs each need more than the budget thrash and never hit)

_Entries = list[tuple[list[_Leaf], Any]]


class _SharedStore:
    """Results of each memoised function kept across the runs of a batch in this process.

    Many replications of one scenario differ only in random draws that never reach some pure
    computations (the default platform's route latency: its capacity timeline is the same for every
    seed), so a worker computes them once per batch instead of once per run. Bounded (entries per
    function, least recently used dropped; array bytes in all, past which nothing is added) and
    locked (the threading backend runs replications side by side); argument arrays are stored as
    copies, since a finished run's arrays are no longer guarded against mutation.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0  # replications inside `shared_across_runs` now
        self.by_fn: dict[Callable[..., Any], OrderedDict[bytes, _Entries]] = {}
        self.sizes: dict[tuple[Callable[..., Any], bytes], int] = {}  # bytes kept per entry
        self.nbytes = 0

    def get(self, fn: Callable[..., Any], key: bytes) -> _Entries:
        with self.lock:
            entries = self.by_fn.get(fn, OrderedDict()).get(key)
            if entries is not None:
                self.by_fn[fn].move_to_end(key)
            return list(entries or ())

    def put(self, fn: Callable[..., Any], key: bytes, leaves: list[_Leaf], result: Any) -> None:
        size = sum(v.nbytes for k, v in leaves if k == "bytes") + _nbytes(result)
        if self.nbytes + size > SHARED_BYTES:
            return
        kept = [(k, v.copy() if k == "bytes" else v) for k, v in leaves]
        with self.lock:
            if self.nbytes + size > SHARED_BYTES:
                return
            table = self.by_fn.setdefault(fn, OrderedDict())
            table.setdefault(key, []).append((kept, result))
            table.move_to_end(key)
            self.sizes[fn, key] = self.sizes.get((fn, key), 0) + size
            self.nbytes += size
            while len(table) > SHARED_ENTRIES:
                self._drop(fn, next(iter(table)))

    def _drop(self, fn: Callable[..., Any], key: bytes) -> None:
        self.by_fn[fn].pop(key, None)
        self.nbytes -= self.sizes.pop((fn, key), 0)


def _nbytes(value: Any) -> int:
    """Bytes of the arrays in a result (what keeping it costs, roughly)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 0


_SHARED = _SharedStore()


@contextmanager
def shared_across_runs() -> Iterator[None]:
    """Within: every `ContentMemo` also looks up, and adds to, this process's store of earlier runs'
    results (`_SharedStore`); `simkit.replicate` runs each replication inside. Exact as the memo is:
    a hit needs the same argument content, leaf by leaf."""
    with _SHARED.lock:
        _SHARED.depth += 1
    try:
        yield
    finally:
        with _SHARED.lock:
            _SHARED.depth -= 1


def _freeze(value: Any) -> None:
    """Make every numpy array inside `value` read-only (a shared result must not change under anyone)."""
    for a in _arrays_in(value, {}).values():
        a.setflags(write=False)


def _arrays_in(value: Any, out: dict[int, Any]) -> dict[int, Any]:
    """id -> array for every numpy array inside `value` (a `copy.deepcopy` memo that keeps them)."""
    if isinstance(value, np.ndarray):
        out[id(value)] = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _arrays_in(getattr(value, f.name), out)
    elif isinstance(value, tuple | list):
        for item in value:
            _arrays_in(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            _arrays_in(item, out)
    return out


class ContentMemo(Generic[R]):
    """`memo(*args)` is `fn(*args)`, computed once per distinct argument content (see module doc).

    `share=True` (for big results, issue 16's peak memory): the result's numpy arrays are made
    read-only and handed to every caller with that content (containers and other values are still
    copies); a caller that tried to change one gets numpy's error, not someone else's answer.
    """

    def __init__(self, fn: Callable[..., R], enabled: bool | None = None, share: bool = False) -> None:
        self.fn = fn
        self.share = share  # hand out the stored result's arrays (read-only) instead of copies
        self.enabled = MEMO_ENABLED if enabled is None else enabled
        self.shared = SHARE_ACROSS_RUNS  # tests turn it off (reference path)
        self._seen: dict[bytes, list[tuple[list[_Leaf], R]]] = {}
        self._arrays = _ArrayDigests()
        self.hits = 0
        self.misses = 0

    def __call__(self, *args: Any) -> R:
        if not self.enabled:
            return self.fn(*args)
        try:
            leaves = list(_leaves(args))
        except TypeError:  # an argument it cannot compare by content: just compute
            return self.fn(*args)
        key = _digest(leaves, self._arrays)
        shared = self.shared and _SHARED.depth > 0
        candidates = self._seen.get(key, []) + (_SHARED.get(self.fn, key) if shared else [])
        for stored, result in candidates:
            if _same(stored, leaves):
                self.hits += 1
                return self._copy(result)  # callers own their result, as with a fresh call
        self.misses += 1
        result = self.fn(*args)
        if self.share:
            _freeze(result)
            kept, result = result, self._copy(result)
        else:
            kept = copy.deepcopy(result)
        self._seen.setdefault(key, []).append((leaves, kept))
        if shared:
            _SHARED.put(self.fn, key, leaves, kept)
        return result

    def _copy(self, result: R) -> R:
        return copy.deepcopy(result, _arrays_in(result, {}) if self.share else None)
