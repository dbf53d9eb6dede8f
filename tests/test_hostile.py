"""Hostile and careless input (issue 14): each case ends in one exact line, quickly and in little memory.

The reader (`simkit.scenario.yamlread`) refuses special files, oversized files, alias bombs, deep nesting,
recursive aliases and duplicate keys; `extends:` and trace paths stay inside the scenario's tree; no
message quotes a file that is not a scenario.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from simkit.errors import ScenarioError
from simkit.export.importer import import_manifests
from simkit.scenario import yamlread
from simkit.scenario.loader import DEFAULT_SCENARIO, load_scenario_file

BASE = DEFAULT_SCENARIO.read_text()


def refused(path: Path | str, **kwargs: object) -> str:
    """The one-line message of loading `path`, checked to take < 3 s and < 300 MB."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario_file(path, **kwargs)  # type: ignore[arg-type]
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < 3.0
    assert peak < 300e6
    message = str(info.value)
    assert "\n" not in message
    return message


def billion_laughs(levels: int = 9) -> str:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


def test_special_files_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    special = "cannot read scenario file: not a regular file (a device, FIFO or socket)"
    assert refused(fifo) == f"{fifo}: {special}"
    assert refused("/dev/zero") == f"/dev/zero: {special}"
    assert refused(tmp_path) == f"{tmp_path}: cannot read scenario file: not a regular file (a directory)"


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("#" * (yamlread.MAX_BYTES + 1))
    assert refused(big) == f"{big}: cannot read scenario file: 3,145,729 bytes, over the 3,145,728-byte limit"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("laughs.yaml", billion_laughs(), "expands to more than 1,000,000 nodes through aliases (line 7)"),
        (
            "laughs6.yaml",
            billion_laughs(5),
            "excessive aliasing: 22 nodes expand to 672,610 (go-yaml's bound) (line 1)",
        ),
        ("deep.yaml", "[" * 1000 + "]" * 1000, "nested deeper than 100 levels (line 1)"),
        ("unclosed.yaml", "a: " + "[" * 50000, "not valid YAML: exceeded maximum nesting depth (line 1)"),
        ("recursive.yaml", "a: &a [*a]\n", "recursive alias (an anchor used inside itself) (line 1)"),
        ("dup.yaml", "name: x\nname: y\n", "duplicate key 'name' (first at line 1) (line 2)"),
        ("dupflow.yaml", "a: {b: 1, b: 2}\n", "duplicate key 'b' (first at line 1) (line 1)"),
        ("two.yaml", "name: x\n---\nname: y\n", "expected one YAML document, found several ('---') (line 3)"),
        (
            "tag.yaml",
            "name: !!python/object/apply:os.system [ls]\n",
            "not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' (line 1)",
        ),
        ("bin.yaml", "name: x\n\udcff", None),
    ],
)
def test_yaml_shape_is_bounded(tmp_path: Path, name: str, text: str, message: str | None) -> None:
    path = tmp_path / name
    if message is None:  # bytes that are not UTF-8
        path.write_bytes(b"name: x\n\xff\n")
        assert refused(path) == f"{path}: cannot read scenario file: not UTF-8 text (line 2)"
        return
    path.write_text(text)
    assert refused(path) == f"{path}: {message}"


def test_merge_keys_are_not_duplicates() -> None:
    root = yamlread.compose("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n", "s.yaml")
    assert yamlread.construct(root) == {"base": {"x": 1}, "other": {"x": 2}}


def test_filesystem_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    assert refused(tmp_path / "loop1") == (
        f"{tmp_path / 'loop1'}: cannot read scenario file: "
        "too many levels of symbolic links (a symlink loop?)"
    )
    (tmp_path / "file").write_text("x")
    under = tmp_path / "file" / "s.yaml"
    assert refused(under) == f"{under}: cannot read scenario file: a part of the path is not a directory"
    long = tmp_path / ("a" * 300 + ".yaml")
    assert refused(long).endswith(".yaml: cannot read scenario file: file name too long")
    assert refused(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such scenario file"
    with pytest.raises(ScenarioError, match="^expected a scenario file path, got dict$"):
        load_scenario_file({"name": "x"})  # type: ignore[arg-type]


def test_extends_stays_inside_the_tree_and_never_quotes_other_files(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secrethash:19000:0:99999:7:::\n")
    secret_yaml = tmp_path / "creds.yaml"
    secret_yaml.write_text("password: hunter2\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    child = sub / "s.yaml"
    for target in (secret, secret_yaml, Path("/etc/shadow")):
        child.write_text(f"extends: {target}\n")
        message = refused(child)
        assert message == (
            f"{child}: extends: file '{target}' resolves outside the scenario's directory "
            f"({sub}, {DEFAULT_SCENARIO.parent}); allow its directory with --allow-dir"
        )
        if target != Path("/etc/shadow"):
            message = refused(child, allow_dirs=[tmp_path])
            assert message == (
                f"{target}: not a scenario file (expected a mapping of cluster:, workloads:, ...)"
            )
            assert "secret" not in message and "hunter2" not in message
    (sub / "link.yaml").symlink_to(secret_yaml)  # a symlink inside the tree pointing out of it
    child.write_text("extends: link.yaml\n")
    assert "resolves outside the scenario's directory" in refused(child)
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster: [\n  password: hunter2\n")
    child.write_text("extends: ../bad.yaml\n")
    assert refused(child, allow_dirs=[tmp_path]) == f"{bad}: not valid YAML (line 3)"


def test_the_shipped_scenarios_may_be_extended_from_anywhere(tmp_path: Path) -> None:
    child = tmp_path / "s.yaml"
    child.write_text(f"extends: {DEFAULT_SCENARIO}\nname: mine\n")
    assert load_scenario_file(child).scenario.name == "mine"


def test_trace_paths_stay_inside_and_must_be_regular_files(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    child = sub / "s.yaml"
    head = f"extends: {DEFAULT_SCENARIO}\ntraffic:\n  load:\n"
    head += "    base_rps: null\n    daily: null\n    weekly: null\n"
    child.write_text(head + "    trace: {path: ../t.csv, rate_unit: per_interval}\n")
    assert refused(child) == (
        f"{child}: traffic.load.trace.path: trace '../t.csv' resolves outside the scenario's directory "
        f"({sub}); allow its directory with --allow-dir"
    )
    os.mkfifo(sub / "t.csv")
    child.write_text(head + "    trace: {path: t.csv, rate_unit: per_interval}\n")
    assert refused(child) == f"{sub / 't.csv'}: cannot read trace file: not a regular file"


@pytest.mark.parametrize(
    ("rows", "fmt", "expected"),
    [
        # two rows 30 years apart at the 1 s interval the events format bins on: ~946 million bins
        (
            "t\n0\n946080000\n",
            "events",
            "946,080,001 intervals of 1 s, over the limit of 10,000,000; "
            "set trace.interval to at least 95 s or trim the trace",
        ),
        # a tiny declared interval over a day
        (
            "t,r\n0,5\n86400,5\n",
            "series",
            "8,640,000,001 intervals of 1e-05 s, over the limit of "
            "10,000,000; set trace.interval to at least 1 s or trim the trace",
        ),
    ],
)
def test_a_trace_spanning_too_many_intervals_is_refused_before_allocating(
    tmp_path: Path, rows: str, fmt: str, expected: str
) -> None:
    """A trace whose timestamps span years, or a tiny interval, used to ask for terabytes (issue 14)."""
    (tmp_path / "t.csv").write_text(rows)
    head = f"extends: {DEFAULT_SCENARIO}\ntraffic:\n  load:\n"
    head += "    base_rps: null\n    daily: null\n    weekly: null\n"
    extra = "format: events" if fmt == "events" else "rate_unit: per_interval, interval: 0.00001"
    (tmp_path / "s.yaml").write_text(head + f"    trace: {{path: t.csv, {extra}}}\n")
    message = refused(tmp_path / "s.yaml")
    assert message.startswith(f"{tmp_path / 't.csv'}: traffic.load.trace.interval: its times span ")
    assert message.endswith(expected)


def test_import_unwraps_kind_list_and_reads_bounded(tmp_path: Path) -> None:
    manifest = tmp_path / "list.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web}\n"
        "  spec:\n    replicas: 2\n    selector: {matchLabels: {app: web}}\n"
        "    template:\n      metadata: {labels: {app: web}}\n"
        "      spec:\n        containers:\n        - name: web\n          image: nginx\n"
        "          resources: {requests: {cpu: 100m, memory: 128Mi}}\n"
    )
    result = import_manifests([manifest], name="listed")
    assert [w.name for w in result.scenario.workloads] == ["web"]
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text(billion_laughs())
    with pytest.raises(ScenarioError, match=r"laughs\.yaml: expands to more than 1,000,000 nodes"):
        import_manifests([laughs], name="x")
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(ScenarioError, match="fifo.yaml: cannot read manifest file: not a regular file"):
        import_manifests([tmp_path / "fifo.yaml"], name="x")
