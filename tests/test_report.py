"""`simkit report DIR` and `RunResult.to_html`: one self-contained, offline, reproducible HTML file."""

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from simkit.cli import main
from simkit.report.html import MAX_POINTS, figure_data, from_dir, from_result, render

SIZE_BUDGET = 6_000_000  # bytes: plotly.js (~4.8 MB) and the page
PAGE_BUDGET = 400_000  # bytes of the page without plotly.js, for a day at 30 s ticks


class _Refs(HTMLParser):
    """Every src/href attribute and every script element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action", "data")]


@pytest.fixture(scope="module")
def failing_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    argv = ["run", "--duration", "2h", "--no-progress", "--set", "slos.p95_latency=130ms", "--out", str(out)]
    assert main(argv) == 1
    return out


def test_report_of_a_run_directory(failing_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(failing_dir), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    # alerts first, with the reasons of the missed targets
    order = [html.index(f'<h2 id="{s}"') for s in ("alerts", "verdicts", "timeline", "cost", "faults")]
    assert order == sorted(order)
    alerts = html[order[0] : order[1]]
    assert "P95 of api-write over 130.0 ms for 2h (worst 5m window 168.0 ms)" in alerts  # windowed SLOs
    assert "P95 of files over 130.0 ms" in alerts and "api-read" not in alerts
    # reproducibility
    repro = html[html.index('<h2 id="reproducibility"') :]
    for text in (
        "platform-baseline",
        "seed</th><td>42",
        "simkit version",
        "2h",
        "price catalog as of</th><td>20",
    ):
        assert text in repro


def test_no_external_url_and_a_size_budget(failing_dir: Path):
    html = render(from_dir(failing_dir))
    refs = _Refs()
    refs.feed(html)
    assert "script" in refs.tags and "link" not in refs.tags and "iframe" not in refs.tags
    assert refs.refs == []  # no src, href, ...: nothing is fetched
    size = len(html.encode())
    assert size < SIZE_BUDGET
    assert get_plotlyjs() in html  # plotly.js is embedded, not linked
    assert size - len(get_plotlyjs().encode()) < PAGE_BUDGET


def test_same_result_same_bytes_but_the_timestamp(failing_dir: Path):
    one = render(from_dir(failing_dir), generated=datetime(2025, 1, 1, tzinfo=UTC))
    two = render(from_dir(failing_dir), generated=datetime(2026, 6, 30, 12, 5, tzinfo=UTC))
    diff = [(a, b) for a, b in zip(one.splitlines(), two.splitlines(), strict=True) if a != b]
    assert diff == [
        (
            '<p class="muted">generated 2025-01-01T00:00:00Z</p>',
            '<p class="muted">generated 2026-06-30T12:05:00Z</p>',
        )
    ]


def test_the_embedded_figures_parse_and_show_targets_and_budget(failing_dir: Path):
    figures = figure_data(render(from_dir(failing_dir)))
    assert set(figures) == {"timeline", "cost"}
    names = [t.get("name") for t in figures["timeline"]["data"]]
    for name in ("load", "errors", "P95 api-write", "target api-write", "pending pods"):
        assert name in names
    assert any(n.endswith("ready nodes") for n in names)
    target = next(t for t in figures["timeline"]["data"] if t.get("name") == "target api-write")
    assert target["y"] == [130.0, 130.0]
    assert "budget of $10,000" in figures["cost"]["layout"]["title"]["text"]


def test_to_html_downsamples_a_day(default_day, tmp_path: Path):
    path = default_day.to_html(tmp_path / "day.html")
    html = path.read_text(encoding="utf-8")
    ticks = default_day.routes["t_s"].nunique()
    assert ticks > MAX_POINTS  # the test means something
    for trace in figure_data(html)["timeline"]["data"]:
        assert len(trace["x"]) <= MAX_POINTS + 1
    # the result and its directory give the same page
    out = tmp_path / "day"
    default_day.write(out)
    stamp = datetime(2025, 1, 1, tzinfo=UTC)
    from_res = render(from_result(default_day), generated=stamp)
    from_out = render(from_dir(out), generated=stamp)
    res, dirs = figure_data(from_res)["timeline"]["data"], figure_data(from_out)["timeline"]["data"]
    assert [t.get("name") for t in res] == [t.get("name") for t in dirs]
    for a, b in zip(res, dirs, strict=True):
        assert a["x"] == pytest.approx(b["x"]) and a["y"] == pytest.approx(b["y"])


def test_report_of_a_directory_that_is_not_a_run_exits_2(tmp_path: Path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "not a `simkit run --out` directory" in err and err.count("\n") == 1
