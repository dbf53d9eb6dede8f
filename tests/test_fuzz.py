"""Fuzz the scenario reader (issue 14): random YAML documents and random mutations of the shipped
scenarios end in success or a one-line `ScenarioError` within a time and memory bound; any other
exception fails. Validation only (the pre-flight included), never a long simulation.
"""

from __future__ import annotations

import copy
import math
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.errors import ScenarioError
from simkit.scenario import preflight
from simkit.scenario.loader import DEFAULT_SCENARIO, parse_scenario

SCENARIOS = sorted(DEFAULT_SCENARIO.parent.glob("*.yaml"))
DOCS = {p.name: yaml.safe_load(p.read_text()) for p in SCENARIOS}
TIME_S, MEMORY_B = 3.0, 300e6
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def validate(text: str) -> None:
    """Parse, validate and pre-flight `text`; only success or a one-line ScenarioError may come out."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        sc = parse_scenario(text, source="fuzz.yaml", base_dir=DEFAULT_SCENARIO.parent)
        preflight.check(sc)
    except ScenarioError as exc:
        assert "\n" not in str(exc)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < TIME_S
    assert peak < MEMORY_B


EXTREMES = st.sampled_from(
    [
        math.inf,
        -math.inf,
        math.nan,
        1e308,
        -1e308,
        -0.0,
        -1,
        0,
        2**64,
        -(2**63),
        1e-320,
        "1e999",
        "-0",
        "1ms",
        "",
    ]
)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), EXTREMES)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*at, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(DOCS[draw(st.sampled_from(sorted(DOCS)))])
    doc.pop("extends", None)
    if "cluster" not in doc:
        doc = {**copy.deepcopy(DOCS["platform-baseline.yaml"]), **doc}
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["value", "extreme", "unknown", "deep", "type"]))
        if how == "value":
            parent[path[-1]] = draw(VALUES)
        elif how == "extreme":
            parent[path[-1]] = draw(EXTREMES)
        elif how == "unknown" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(LEAVES)
        elif how == "deep":
            parent[path[-1]] = nested(draw(st.integers(1, 300)))
        else:
            parent[path[-1]] = draw(st.sampled_from([[], {}, "x", True, None, [1, 2]]))
    text = yaml.safe_dump(doc, sort_keys=False)
    if draw(st.booleans()):  # share a subtree through an anchor and aliases, as a hand-written file may
        text = "x-shared: &s [a, b, c]\n" + text.replace("\nname:", "\nx-alias: *s\nname:", 1)
    return text


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(mutated())
def test_mutated_shipped_scenarios_end_in_success_or_scenario_error(text: str) -> None:
    validate(text)


@FUZZ
@given(VALUES)
def test_random_yaml_documents_end_in_success_or_scenario_error(value: Any) -> None:
    validate(yaml.safe_dump(value))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(alphabet="[]{}&*!:-,|>'\"#%@ \n\tabx01.", max_size=200))
def test_random_yaml_text_ends_in_success_or_scenario_error(text: str) -> None:
    validate(text)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.integers(2, 12), st.integers(2, 12))
def test_alias_bombs_are_bounded(levels: int, fan: int) -> None:
    text = "a0: &a0 [x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]\n" for i in range(1, levels + 1)
    )
    validate(text)


def test_the_shipped_scenarios_pass(tmp_path: Path) -> None:
    for path in SCENARIOS:
        validate(path.read_text())
