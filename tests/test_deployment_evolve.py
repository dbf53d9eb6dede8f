"""`control.deployment.types.evolve` builds what `dataclasses.replace` builds, for each of its types.

The Deployment controller's syncs use `evolve` for speed (issue 12: a month of daily rollouts); the
result must be the same object in every respect a caller can see: equal, same hash (or the same
unhashable error), same fields, the same type, frozen, and an unknown field is a TypeError as with
`replace`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.control.deployment.types import Condition, Deployment, DeploymentStatus, ReplicaSet, evolve

COND = st.builds(
    Condition,
    type=st.sampled_from(["Progressing", "Available"]),
    status=st.sampled_from(["True", "False"]),
    reason=st.text(max_size=5),
    last_update_time=st.none() | st.floats(-1e6, 1e6),
)
STATUS = st.builds(
    DeploymentStatus,
    replicas=st.integers(0, 50),
    ready_replicas=st.integers(0, 50),
    conditions=st.lists(COND, max_size=2).map(tuple),
)
RS = st.builds(
    ReplicaSet,
    name=st.text(min_size=1, max_size=5),
    replicas=st.integers(0, 50),
    annotations=st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    deletion_timestamp=st.none() | st.floats(0, 1e6),
)
DEPLOYMENT = st.builds(
    Deployment,
    replicas=st.integers(0, 50),
    max_surge=st.none() | st.integers(0, 5) | st.sampled_from(["25%", "0%", "100%"]),
    status=STATUS,
)


def _changes(obj: Any, data: st.DataObject) -> dict[str, Any]:
    fields = [f.name for f in dataclasses.fields(obj)]
    names = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=3))
    donor = data.draw(
        {Condition: COND, DeploymentStatus: STATUS, ReplicaSet: RS, Deployment: DEPLOYMENT}[type(obj)]
    )
    return {name: getattr(donor, name) for name in names}


def _hash(obj: Any) -> int | str:
    try:
        return hash(obj)
    except TypeError as e:  # a ReplicaSet's annotations are a dict: unhashable either way
        return str(e)


@given(obj=COND | STATUS | RS | DEPLOYMENT, data=st.data())
def test_evolve_is_replace(obj: Any, data: st.DataObject) -> None:
    changes = _changes(obj, data)
    want, got = dataclasses.replace(obj, **changes), evolve(obj, **changes)
    assert type(got) is type(want)
    assert got == want
    assert _hash(got) == _hash(want)
    assert vars(got) == vars(want)
    assert got is not obj
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.name = "x"  # type: ignore[misc]  # frozen like the original


def test_an_unknown_field_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        evolve(Deployment(), replicaz=3)
