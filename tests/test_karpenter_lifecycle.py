"""Karpenter's drift, expiry and do-not-disrupt in the engine, and their pure functions
(control/karpenter/drift.py; kubernetes-sigs/karpenter 2266468, nodeclaim/disruption/drift.go,
nodeclaim/expiration/controller.go, disruption/types.go `NewCandidate`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simkit
from simkit.control import karpenter as k

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _scenario(tmp_path: Path, body: str) -> simkit.Scenario:
    path = tmp_path / "variant.yaml"
    path.write_text(f"extends: {SCENARIOS / 'karpenter-baseline.yaml'}\nname: variant\n{body}")
    return simkit.load_scenario(path, allow_dirs=[SCENARIOS])


def _karpenter(result: simkit.RunResult) -> object:
    return result.decisions[result.decisions.controller == "karpenter"]


# ----------------------------------------------------------------------------------- pure functions
def test_template_hash_ignores_requirements_and_list_order() -> None:
    base = {"labels": {"a": "1"}, "taints": [{"key": "x"}, {"key": "y"}], "requirements": [1]}
    same = {
        "taints": [{"key": "y"}, {"key": "x"}],
        "labels": {"a": "1"},
        "requirements": [2],
        "annotations": {},
    }
    assert k.template_hash(base) == k.template_hash(same)
    assert k.template_hash(base) != k.template_hash({**base, "labels": {"a": "2"}})


@pytest.mark.parametrize(
    ("pool_hash", "node_hash", "reqs", "labels", "expected"),
    [
        ("h1", "h1", [], {}, ""),
        ("h2", "h1", [], {}, k.NODEPOOL_DRIFTED),
        (
            "h1",
            "h1",
            [("karpenter.sh/capacity-type", "In", ["on-demand"])],
            {"karpenter.sh/capacity-type": "spot"},
            k.REQUIREMENTS_DRIFTED,
        ),
        (
            "h1",
            "h1",
            [("karpenter.sh/capacity-type", "In", ["spot"])],
            {"karpenter.sh/capacity-type": "spot"},
            "",
        ),
        (
            "h1",
            "h1",
            [("karpenter.k8s.aws/instance-generation", "Gt", ["5"])],
            {"karpenter.k8s.aws/instance-generation": "5"},
            k.REQUIREMENTS_DRIFTED,
        ),
        ("h1", "h1", [("team", "DoesNotExist", [])], {"team": "a"}, k.REQUIREMENTS_DRIFTED),
        ("h2", "h1", [("team", "DoesNotExist", [])], {"team": "a"}, k.NODEPOOL_DRIFTED),  # static first
    ],
)
def test_drift_reason_table(
    pool_hash: str,
    node_hash: str,
    reqs: list[tuple[str, str, list[str]]],
    labels: dict[str, str],
    expected: str,
) -> None:
    assert k.drift_reason(pool_hash, node_hash, reqs, labels) == expected


@given(st.floats(0, 1e7), st.one_of(st.none(), st.floats(1, 1e7)), st.floats(0, 2e7))
def test_expired_exactly_from_creation_plus_expire_after(
    created: float, after: float | None, now: float
) -> None:
    expired = k.is_expired(created, after, now)
    assert expired == (after is not None and now >= created + after)


# ---------------------------------------------------------------------------------------- engine
def test_nodepool_change_drifts_old_nodes_and_replaces_them_first(tmp_path: Path) -> None:
    s = _scenario(
        tmp_path,
        "cluster:\n  nodepool_changes:\n"
        "    - {at: 2h, nodepool: application, labels: {workload: application, spot: 'true', team: a},"
        " terminationGracePeriod: 10m}\n",
    )
    result = simkit.simulate(s, duration=4 * 3600.0, seed=1, progress=False)
    d = _karpenter(result)
    assert "NodePoolDrifted" in d.message[d.reason == "NodePoolUpdated"].iloc[0]
    drifted = d[d.reason == "Disrupting/Drifted"]
    assert len(drifted) >= 1 and (drifted.t_s >= 7200).all()
    ev = result.events
    for row in drifted.itertuples():
        node = row.message.split(": ")[1].split(" ")[0]
        # replacements are Ready before the drifted node is drained (its NodeClaim launched in between)
        drained = ev[(ev.object == node) & (ev.reason == "DisruptedDrifted")].t_s.min()
        assert drained >= row.t_s + 30.0, (node, drained, row.t_s)
    assert result.summary["availability"] > 0.99


def test_no_change_no_drift() -> None:
    result = simkit.simulate(
        simkit.load_scenario(SCENARIOS / "karpenter-baseline.yaml"),
        duration=3 * 3600.0,
        seed=1,
        progress=False,
    )
    assert not _karpenter(result).reason.isin(["Disrupting/Drifted", "Disrupting/Expired"]).any()


def test_expire_after_deletes_nodes_forcefully(tmp_path: Path) -> None:
    s = _scenario(tmp_path, "cluster:\n  nodepools:\n    - name: application\n      expireAfter: 1h\n")
    result = simkit.simulate(s, duration=3 * 3600.0, seed=1, progress=False)
    d = _karpenter(result)
    expired = d[d.reason == "Disrupting/Expired"]
    assert len(expired) >= 2
    nodes = result.events[
        (result.events.reason == "NodeRemoved") & (result.events.message == "DisruptedExpired")
    ]
    assert len(nodes) >= 2
    assert result.summary["availability"] > 0.95


def test_do_not_disrupt_on_nodes_blocks_every_voluntary_disruption(tmp_path: Path) -> None:
    s = _scenario(
        tmp_path,
        "cluster:\n  nodepools:\n    - name: application\n"
        "      annotations: {karpenter.sh/do-not-disrupt: 'true'}\n",
    )
    d = _karpenter(simkit.simulate(s, duration=3 * 3600.0, seed=1, progress=False))
    assert not d.reason.str.startswith("Disrupting/").any()
    blocked = d.message[d.reason == "DisruptionBlocked"]
    assert blocked.str.contains(
        'Disruption is blocked through the "karpenter.sh/do-not-disrupt" annotation'
    ).any()


def test_do_not_disrupt_on_pods_blocks_their_nodes(tmp_path: Path) -> None:
    s = _scenario(
        tmp_path,
        "workloads:\n  - name: llm-agent-service\n    annotations: {karpenter.sh/do-not-disrupt: 'true'}\n",
    )
    d = _karpenter(simkit.simulate(s, duration=3 * 3600.0, seed=1, progress=False))
    blocked = d.message[d.reason == "DisruptionBlocked"]
    assert blocked.str.contains(
        r'Pod has "karpenter.sh/do-not-disrupt" annotation \(Pod=application/llm-agent-service'
    ).any()


def test_nodepool_change_of_unknown_pool_is_a_path_error(tmp_path: Path) -> None:
    with pytest.raises(simkit.ScenarioError) as err:
        _scenario(tmp_path, "cluster:\n  nodepool_changes:\n    - {at: 1h, nodepool: nope, labels: {a: b}}\n")
    assert "nodepool_changes[0].nodepool" in str(err.value) and "'nope'" in str(err.value)


def test_bad_nodepool_change_is_one_line_exit_2(tmp_path: Path) -> None:
    """A change leaving the NodePool with no instance type: one line, YAML path and line, exit 2."""
    (tmp_path / "platform-baseline.yaml").write_text((SCENARIOS / "platform-baseline.yaml").read_text())
    (tmp_path / "karpenter-baseline.yaml").write_text((SCENARIOS / "karpenter-baseline.yaml").read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: karpenter-baseline.yaml\nname: bad\ncluster:\n  nodepool_changes:\n"
        "    - at: 1h\n      nodepool: application\n      requirements:\n"
        "        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [zz9]}\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "simkit.cli", "validate", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert "cluster.nodepool_changes[0].requirements" in lines[0] and "(line 7)" in lines[0]
    assert "match no instance type in the catalog" in lines[0]


def test_requirement_change_drifts_spot_nodes_to_on_demand(tmp_path: Path) -> None:
    """Requirements are `hash:"ignore"`: the spot nodes drift through RequirementsDrifted and their
    replacements are on-demand."""
    s = _scenario(
        tmp_path,
        "cluster:\n  nodepool_changes:\n    - at: 2h\n      nodepool: application\n      requirements:\n"
        "        - {key: karpenter.k8s.aws/instance-family, operator: In, values: [m5, m6i, m7i]}\n"
        "        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}\n",
    )
    result = simkit.simulate(s, duration=3 * 3600.0, seed=1, progress=False)
    d = _karpenter(result)
    update = d.message[d.reason == "NodePoolUpdated"].iloc[0]
    assert "(RequirementsDrifted)" in update and "NodePoolDrifted" not in update
    drifts = d[d.reason == "Disrupting/Drifted"]
    assert len(drifts) >= 1 and drifts.message.str.contains("drift replace: ").all()
    ev = result.events
    joined = ev[(ev.reason == "NodeReady") & (ev.t_s > 7200)]
    assert len(joined) >= 1 and joined.message.str.contains(" on-demand ").all()
    # while drained pods come back, PDBs block other disruptions, in Karpenter's words
    blocked = d.message[d.reason == "DisruptionBlocked"]
    assert blocked.str.contains(r"Pdb prevents pod evictions \(PodDisruptionBudget=\[application/").any()


def test_karpenter_run_starts_from_its_steady_state() -> None:
    """NodeClaims run before t=0 for the pods no fixed pool fits (engine.before_start), as the node
    groups' start size does for the cluster autoscaler: nothing Pending at t=0."""
    result = simkit.simulate(SCENARIOS / "karpenter-baseline.yaml", duration=600.0, progress=False)
    d = _karpenter(result)
    boot = d[(d.reason == "Launched") & d.message.str.contains("running before t=0")]
    assert len(boot) >= 1 and (boot.t_s == 0).all()
    replicas = result.replicas[result.replicas.t_s == 0]
    assert (replicas.ready == replicas.desired).all(), replicas
    assert result.summary["availability"] == 1.0
