"""AZ outages that pick their zone: `primary:<data workload>`, `busiest`, and `each` (one run per zone)."""

import pytest

from simkit.api import simulate
from simkit.cli import main
from simkit.engine.faults import resolve_zone
from simkit.engine.simulation import run_engine
from simkit.engine.state import PodPhase
from simkit.errors import ScenarioError, SimkitError
from simkit.replicate import replicate, zone_variants
from simkit.scenario.loader import load_scenario, load_scenario_file

SHORT = {"faults.az_outages.0.at": "20m", "faults.az_outages.0.duration": "20m", "simulation.duration": "1h"}


def _outage(zone: str):
    return load_scenario("scenarios/az-outage.yaml", overrides={**SHORT, "faults.az_outages.0.zone": zone})


def _primary_zone_at_outage(sc, seed):
    """Where postgresql's primary runs when the outage starts, observed from inside the run."""
    seen = {}

    def hook(engine):
        def probe():
            yield engine.env.timeout(sc.faults.az_outages[0].at - 1e-6)
            primary = engine.state.pods[engine.data["postgresql"].primary]
            seen["zone"] = engine.state.nodes[primary.node].zone

        engine.env.process(probe())

    run_engine(sc, seed=seed, hook=hook)
    return seen["zone"]


def test_primary_selector_fails_the_primary_zone_at_every_seed():
    named = _outage("us-east-1a")
    primary = _outage("primary:postgresql")
    failovers_named = []
    for seed in range(6):
        result = simulate(primary, seed=seed, progress=False)
        outage = result.faults[result.faults["kind"] == "az-outage"].iloc[0]
        assert outage["target"] == _primary_zone_at_outage(primary, seed)
        assert "primary:postgresql: postgresql-" in outage["detail"]
        assert ((result.faults["kind"] == "failover") & (result.faults["target"] == "postgresql")).any()
        named_result = simulate(named, seed=seed, progress=False)
        failovers_named.append((named_result.faults["target"] == "postgresql").any())
    assert not all(failovers_named)  # a named zone misses the primary at some seeds: the verdict hinged on it


def test_az_outage_verdict_no_longer_depends_on_where_the_primary_landed():
    sc = load_scenario(
        "scenarios/az-outage.yaml",
        overrides={"faults.az_outages.0.zone": "primary:postgresql", "simulation.duration": "16h30m"},
    )
    runs = replicate(sc, seeds=range(8), n_jobs=2, progress=False)
    assert runs["passed.availability"].nunique() == 1  # same verdict at every seed
    # Losing the primary costs the 35 s failover, counted from its exact start and end since the sub-tick
    # accounting (issue 11 item 3): ~1,300 errors, within the 99.9 % budget of 16.5 h, at every seed.
    assert runs["passed.availability"].all()
    assert runs["value.availability"].max() - runs["value.availability"].min() < 0.01  # percentage points


def test_busiest_selects_the_zone_with_most_ready_route_pods():
    sc = _outage("busiest")
    seen = {}

    def hook(engine):
        def probe():
            yield engine.env.timeout(sc.faults.az_outages[0].at - 1e-6)
            services = {s.service for r in sc.traffic.routes for s in r.path}
            counts = dict.fromkeys(sc.cluster.zones, 0)
            for pod in engine.state.pods.values():
                if pod.workload in services and pod.phase is PodPhase.READY:
                    counts[engine.state.nodes[pod.node].zone] += 1
            seen["counts"] = counts
            seen["zone"] = resolve_zone(engine, "busiest")[0]

        engine.env.process(probe())

    run_engine(sc, seed=3, hook=hook)
    assert seen["counts"][seen["zone"]] == max(seen["counts"].values())
    result = simulate(sc, seed=3, progress=False)
    assert result.faults.iloc[0]["target"] == seen["zone"]
    assert "busiest:" in result.faults.iloc[0]["detail"]


def test_each_expands_to_one_run_per_zone():
    overrides = {**SHORT, "faults.az_outages.0.zone": "each"}
    loaded = load_scenario_file("scenarios/az-outage.yaml", overrides=overrides)
    variants = zone_variants(loaded)
    zones = loaded.scenario.cluster.zones
    assert [label for label, _ in variants] == zones
    assert [v.scenario.faults.az_outages[0].zone for _, v in variants] == zones
    assert len({v.sha256 for _, v in variants}) == len(zones)
    runs = replicate(loaded, seeds=[0, 1], n_jobs=1, progress=False)
    assert list(runs["zone"]) == zones * 2 and list(runs["seed"]) == [0] * 3 + [1] * 3
    assert runs.groupby("seed")["zone"].nunique().eq(len(zones)).all()


def test_two_each_outages_give_the_product():
    outages = [{"zone": "each", "at": at, "duration": "5m"} for at in ("20m", "40m")]
    loaded = load_scenario_file("scenarios/az-outage.yaml", overrides={"faults.az_outages": outages})
    labels = [label for label, _ in zone_variants(loaded)]
    assert len(labels) == 9 and labels[1] == "az_outages[0]=us-east-1a, az_outages[1]=us-east-1b"


def test_run_with_each_is_judged_at_the_worst_zone(capsys):
    argv = ["run", "scenarios/az-outage.yaml", "--no-progress", "--jobs", "1"]
    sets = [f"{k}={v}" for k, v in {**SHORT, "faults.az_outages.0.zone": "each"}.items()]
    code = main([*argv, *[x for s in sets for x in ("--set", s)]])
    text = capsys.readouterr().out
    assert code == 1
    assert "every zone lost in turn (us-east-1a, us-east-1b, us-east-1c), each target at its worst" in text
    assert "rule: a target passes when it held in every zone's run (one seed" in text
    assert "availability missed, by zone lost:" in text
    assert "MISSED: availability held in 0 of 1 run(s)" in text


def test_simulate_refuses_each_before_running():
    with pytest.raises(SimkitError, match=r"faults.az_outages\[0\].zone: 'each' means one run per zone"):
        simulate(_outage("each"), progress=False)


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("us-east-1z", "unknown zone 'us-east-1z'; expected a zone name, 'primary:<data workload>'"),
        ("primary:rabbitmq", "'rabbitmq' is a quorum data service: it has no primary"),
        ("primary:mysql", "'mysql' is not a data service with a primary in faults.data_layer"),
        ("primary:", "'' is not a data service with a primary"),
        ("busy", "unknown zone 'busy'"),
    ],
)
def test_bad_selectors_are_errors_naming_the_yaml_path(zone, message):
    with pytest.raises(ScenarioError, match=r"faults.az_outages\[0\].zone: ") as err:
        _outage(zone)
    assert message in str(err.value)


def test_bad_selector_on_the_command_line_is_one_line_with_the_line_number(capsys):
    code = main(["check", "scenarios/az-outage.yaml", "--set", "faults.az_outages.0.zone=primary:rabbitmq"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "az-outage.yaml: faults.az_outages[0].zone: 'rabbitmq' is a quorum data service" in err
    assert "(line 9)" in err
