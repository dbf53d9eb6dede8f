"""DR model: closed forms, the seed's figures, validation, determinism and properties."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from simkit.analysis.slo import Check
from simkit.dr import PHASES, dr_checks, dr_summary, evaluate, evaluate_event, solve, with_value
from simkit.dr.model import newest_copy_age
from simkit.scenario.dr import DRSpec, PhaseTime
from simkit.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SEED = DRSpec()
W = 60.0


def spec_with(**sections) -> DRSpec:
    """A DRSpec from nested plain dicts (validated like YAML)."""
    return DRSpec.model_validate(sections)


def no_lag(**backups) -> DRSpec:
    return spec_with(backups={"cross_region_copy_lag": 0, "wal_archive_interval": W, **backups})


# ---------------------------------------------------------------- closed forms
def test_wal_shipping_rpo_is_uniform_on_0_w():
    rpo = evaluate_event(no_lag(), "region_failure", 1, n=20_000)["rpo_s"].to_numpy()
    assert stats.kstest(rpo, stats.uniform(0, W).cdf).pvalue > 0.01
    assert stats.kstest(rpo, stats.uniform(0, 2 * W).cdf).pvalue < 1e-6  # the test has power
    assert rpo.min() >= 0 and rpo.max() <= W


def test_fixed_copy_lag_shifts_the_uniform():
    spec = spec_with(backups={"cross_region_copy_lag": "150s", "wal_archive_interval": W})
    rpo = evaluate_event(spec, "region_failure", 2, n=20_000)["rpo_s"].to_numpy()
    assert stats.kstest(rpo - 150, stats.uniform(0, W).cdf).pvalue > 0.01


def test_without_wal_shipping_rpo_is_uniform_on_the_full_backup_interval_plus_lag():
    spec = spec_with(backups={"cross_region_copy_lag": "10m", "wal_archive_interval": None})
    df = evaluate_event(spec, "cluster_loss", 3, n=20_000)
    f = 6 * 3600
    assert stats.kstest(df["rpo_s"] - 600, stats.uniform(0, f).cdf).pvalue > 0.01
    assert (df["replay_s"] == 0).all()  # recovery point = the base backup itself


def test_newest_copy_age_skips_copies_still_in_flight():
    age = newest_copy_age(np.array([10.0, 50.0, 5.0]), 60.0, np.array([30.0, 30.0, 130.0]))
    assert age.tolist() == [70.0, 50.0, 185.0]


def test_restore_time_is_size_over_throughput():
    spec = spec_with(data={"database_size": "100Gi", "restore_throughput": 125})
    df = evaluate_event(spec, "data_corruption", 0, n=5)
    assert df["restore_s"].tolist() == [100 * 1024 / 125] * 5 == [819.2] * 5


def test_rto_is_the_sum_of_deterministic_phases():
    spec = spec_with(
        backups={"cross_region_copy_lag": "30s", "wal_archive_interval": "60s"},
        data={
            "database_size": "100Gi",
            "restore_throughput": 125,
            "wal_rate": "512Mi",
            "wal_replay_rate": 16,
        },
        procedures={
            "detection_time": "10m",
            "decision_time": "15m",
            "node_provisioning_time": "2m",
            "redeploy_time": "4m",
            "dns_update_time": "30s",
            "dns_ttl": "60s",
        },
    )
    row = evaluate_event(spec, "region_failure", 0, at=3 * 86400 + 1800).iloc[0]
    # at = 3d30m: last WAL segment archived 0 s ago is in flight (lag 30 s), so the DR copy is 60 s old;
    # the 6-hourly full backup was taken 30 min ago and has arrived.
    assert row["rpo_s"] == 60.0 and row["base_backup_age_s"] == 1800.0
    replay = 512 / 3600 * (1800 - 60) / 16
    assert row["replay_s"] == pytest.approx(replay)
    expected = 600 + 900 + 120 + 819.2 + replay + 240 + 90
    assert row["rto_s"] == pytest.approx(expected)
    assert row["rto_s"] == pytest.approx(sum(row[p] for p in PHASES))


def test_az_failure_loses_the_primary_one_time_in_three():
    df = evaluate_event(SEED, "az_failure", 4, n=30_000)
    lost = (df["rpo_s"] > 0).mean()
    assert abs(lost - 1 / 3) < 4 * np.sqrt(1 / 3 * 2 / 3 / 30_000)
    assert df["detection_s"].between(40, 55).all()  # 50 s grace - lease phase + monitor quantization
    # RTO = max(endpoint removal, Patroni failover 30-45 s when the primary was there; reliability.md §5)
    assert df["rto_s"].max() <= 55.0
    assert (df.loc[df["rpo_s"] > 0, "rto_s"] >= 30.0).all()
    assert (df.loc[df["rpo_s"] == 0, "restore_s"] == 0).all()


def test_corruption_detected_after_the_pitr_window_falls_back_to_the_weekly_backup():
    spec = spec_with(procedures={"corruption_detection_delay": "8d"})
    df = evaluate_event(spec, "data_corruption", 5, n=2000)
    assert not df["pitr_ok"].any()
    assert (df["rpo_s"] >= 0).all() and df["rpo_s"].max() > 86400
    assert (df["replay_s"] == 0).all()
    inside = evaluate_event(SEED.model_copy(), "data_corruption", 5, n=2000)
    assert inside["rpo_s"][inside["pitr_ok"]].max() <= 300.0  # PITR: only the pinpoint margin is lost


# ---------------------------------------------------------------- the seed's plan
@pytest.fixture(scope="module")
def seed_runs():
    return evaluate(SEED, 2024, draws=20_000)


def test_seed_region_failure_meets_rto_about_seven_times_in_eight(seed_runs):
    summary = dr_summary(seed_runs, SEED).set_index("event")
    region = summary.loc["region_failure"]
    assert 0.80 < region["p_rto_met"] < 0.95
    assert 55 < region["rto_p95_min"] < 75
    assert region["rpo_p95_min"] < 15  # WAL shipping every minute + copy lag <= 15 min
    assert summary.loc["cluster_loss", "p_rto_met"] < 0.01  # the seed's own runbook says 2 h
    assert 90 < summary.loc["cluster_loss", "rto_max_min"] < 130
    assert 25 < summary.loc["data_corruption", "rto_p50_min"] < 40  # seed: 30 min
    assert summary.loc["az_failure", "rto_max_min"] < 1


def test_seed_checks_name_the_missed_targets(seed_runs):
    checks = dr_checks(seed_runs, SEED)
    assert list(checks.columns) == list(Check.__dataclass_fields__)
    failed = checks[~checks["passed"]]
    assert failed["target"].tolist() == ["RTO region_failure", "RTO cluster_loss"]
    reason = failed["reason"].iloc[0]
    assert reason.startswith("RTO of region_failure P95 ") and reason.endswith(
        " min misses the target <= 60 min"
    )
    assert (checks["passed"] == (checks["margin"] >= 0)).all()


def test_single_event_is_compared_as_is_and_event_targets_override():
    spec = spec_with(events=[{"kind": "cluster_loss", "at": "3d", "rto": "2h", "name": "rebuild"}])
    df = evaluate(spec, 0, draws=1)
    checks = dr_checks(df, spec).set_index("target")
    assert checks.loc["RTO rebuild", "threshold"] == 120
    assert checks.loc["RTO rebuild", "value"] == pytest.approx(df["rto_s"].iloc[0] / 60)
    slow = with_value(spec, "procedures.iac_rebuild_time", PhaseTime(fixed=3 * 3600))
    reason = dr_checks(evaluate(slow, 0, draws=1), slow).set_index("target").loc["RTO rebuild", "reason"]
    assert reason.startswith("RTO of rebuild ") and "P95" not in reason


def test_solve_finds_the_wal_interval_for_the_rpo_target():
    # RPO ~ U[0, W] without lag: its P95 is 0.95 W, so W = 15 min / 0.95
    w = solve(no_lag(), "region_failure", "backups.wal_archive_interval", "rpo_s", 900, 1, 3600, draws=20_000)
    assert w == pytest.approx(900 / 0.95, rel=0.02)
    assert (
        solve(SEED, "cluster_loss", "data.restore_throughput", "rto_s", 3600, 10, 10_000, want="min") is None
    )


# ---------------------------------------------------------------- determinism and streams
def test_same_seed_same_draws_and_different_seed_different_draws():
    a, b, c = evaluate(SEED, 7, draws=500), evaluate(SEED, 7, draws=500), evaluate(SEED, 8, draws=500)
    assert a.equals(b)
    assert not a["rto_s"].equals(c["rto_s"])


def test_changing_one_phase_leaves_the_other_draws_alone():
    other = with_value(SEED, "procedures.decision_time", PhaseTime(fixed=60))
    a, b = evaluate_event(SEED, "region_failure", 9, 1000), evaluate_event(other, "region_failure", 9, 1000)
    assert a["detection_s"].equals(b["detection_s"]) and a["rpo_s"].equals(b["rpo_s"])
    assert not a["decision_s"].equals(b["decision_s"])


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"backup": {}}, "backup\n  Extra inputs are not permitted"),
        ({"procedures": {"decision_time": {"min": "5m", "p90": "1h"}}}, "got keys \\['min', 'p90'\\]"),
        (
            {"procedures": {"decision_time": {"min": "30m", "mode": "5m", "max": "1h"}}},
            "need min <= mode <= max",
        ),
        (
            {"procedures": {"corruption_detection_delay": {"median": "2h", "p90": "1h"}}},
            "need 0 < median <= p90",
        ),
        ({"backups": {"full_backup_interval": "six hours"}}, "expected a duration such as"),
        ({"data": {"restore_throughput": 0}}, "restore_throughput\n  Input should be greater than 0"),
        ({"events": [{"kind": "meteor"}]}, "events.0.kind\n  Input should be 'region_failure'"),
        ({"events": [{"kind": "az_failure"}, {"kind": "az_failure"}]}, "two events are called 'az_failure'"),
        (
            {"procedures": {"dr_region": "hot"}},
            "dr_region\n  Input should be 'warm', 'pilot-light' or 'cold'",
        ),
        ({"targets": {"rpo": 0}}, "targets.rpo\n  Input should be greater than 0"),
        ({"procedures": {"dns_ttl": -60}}, "expected a non-negative duration"),
    ],
)
def test_bad_dr_sections_are_rejected_with_a_clear_message(doc, message):
    with pytest.raises(ValidationError, match=message):
        DRSpec.model_validate(doc)


def test_unknown_event_kind_in_the_api():
    with pytest.raises(ValueError, match="unknown DR event kind 'flood'"):
        evaluate_event(SEED, "flood", 0)


@pytest.mark.parametrize("name", ["region-dr", "data-corruption", "cluster-loss"])
def test_scenario_files_are_the_baseline_plus_a_valid_dr_section(name):
    doc = yaml.safe_load((ROOT / "scenarios" / f"{name}.yaml").read_text())
    assert doc["extends"] == "platform-baseline.yaml"
    assert set(doc) == {"extends", "name", "description", "dr"}
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    base = load_scenario(ROOT / "scenarios" / "platform-baseline.yaml")
    assert scenario.name == name and scenario.dr is not None
    assert (
        scenario.model_copy(update={"name": base.name, "description": base.description, "dr": None}) == base
    )
    spec = scenario.dr
    assert len(spec.events) == 1 and spec.events[0].at == 3 * 86400
    assert spec.targets.rto == 3600 and spec.targets.rpo == 900


# ---------------------------------------------------------------- properties
durations = st.floats(min_value=0, max_value=4 * 3600, allow_nan=False)


@st.composite
def phase_times(draw):
    a, b, c = sorted(draw(st.lists(durations, min_size=3, max_size=3)))
    return draw(st.sampled_from([{"fixed": b}, {"min": a, "max": c}, {"min": a, "mode": b, "max": c}]))


@st.composite
def dr_specs(draw):
    wal = draw(st.one_of(st.none(), st.floats(min_value=1, max_value=3600)))
    return spec_with(
        backups={
            "wal_archive_interval": wal,
            "full_backup_interval": draw(st.floats(min_value=60, max_value=86400)),
            "cross_region_copy_lag": draw(phase_times()),
        },
        data={
            "restore_throughput": draw(st.floats(min_value=1, max_value=2000)),
            "database_size": draw(st.floats(min_value=1, max_value=1e6)),
        },
        procedures={
            k: draw(phase_times())
            for k in (
                "detection_time",
                "decision_time",
                "iac_rebuild_time",
                "redeploy_time",
                "pinpoint_time",
                "pinpoint_margin",
            )
        },
    )


@settings(max_examples=60, deadline=None)
@given(
    spec=dr_specs(),
    kind=st.sampled_from(["region_failure", "data_corruption", "cluster_loss", "az_failure"]),
    at=st.one_of(st.none(), st.floats(min_value=0, max_value=30 * 86400)),
    seed=st.integers(0, 2**32),
)
def test_rto_covers_every_phase_and_rpo_is_bounded(spec, kind, at, seed):
    df = evaluate_event(spec, kind, seed, n=200, at=at)
    phases = df[list(PHASES)].to_numpy()
    assert (phases >= 0).all()
    assert (df["rto_s"].to_numpy()[:, None] >= phases - 1e-9).all()
    assert (df["rpo_s"] >= 0).all()
    lag = spec.backups.cross_region_copy_lag.upper
    if kind in ("region_failure", "cluster_loss"):
        bound = (
            spec.backups.full_backup_interval
            if spec.backups.wal_archive_interval is None
            else min(spec.backups.wal_archive_interval, spec.backups.full_backup_interval)
        )
        assert (df["rpo_s"] <= bound + lag + 1e-6).all()
