"""Issue 11 item 7: small things that misled a reader (each test failed before)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import simkit
from simkit.cli import main
from simkit.dr.checks import dr_summary
from simkit.errors import SimkitError
from simkit.results import _md_cell
from simkit.units import format_number, format_time


def test_a_duration_without_a_unit_is_refused_on_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--duration", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --duration" in err[0] and "'1'" in err[0]


def test_simulate_takes_the_clis_durations() -> None:
    assert simkit.simulate(duration="2h", progress=False).duration_s == 7200.0
    with pytest.raises(SimkitError, match="^duration: "):
        simkit.simulate(duration="2x")


def test_times_in_text_have_one_human_format() -> None:
    assert format_time(3736.788968498771) == "1h2m16.8s"
    assert format_time(7270.0) == "2h1m10s"
    assert format_time(35.0) == "35s" and format_time(float("inf")) == "never"
    r = simkit.simulate("scenarios/az-outage.yaml", duration=86400, seed=1, progress=False)
    text = r.summary_table()
    assert "t=14h az-outage us-east-1a: 3 node(s) unreachable for 2h;" in text
    assert "s unreachable" not in text and "7200 s" not in text


def test_numbers_in_text_tables_have_no_scientific_notation() -> None:
    assert format_number(5.789e7) == "57,890,000" and format_number(1e4) == "10,000"
    assert _md_cell(5.789e7) == "57,890,000"
    r = simkit.simulate(duration="1d", progress=False)
    md = r.to_markdown()
    assert "e+" not in md and f"| requests | {r.summary['requests']:,.0f} |" in md


def test_a_probability_is_never_rounded_to_one_when_a_draw_missed() -> None:
    assert format_number(0.99995) == "0.99995" and format_number(1.0) == "1"
    draws = pd.DataFrame(
        {"event": ["e"] * 20000, "rto_s": [60.0] * 20000, "rpo_s": [0.0] * 19999 + [6.9 * 86400]}
    )
    spec = simkit.load_scenario(Path("scenarios/region-dr.yaml")).dr
    assert spec is not None
    row = dr_summary(draws, spec).iloc[0]
    assert row["rpo_missed"] == 1 and row["rto_missed"] == 0
    assert format_number(float(row["p_rpo_met"])) == "0.99995"
