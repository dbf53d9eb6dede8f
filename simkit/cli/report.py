"""`simkit report DIR -o report.html`: one self-contained HTML report of a `simkit run --out` directory.

plotly and jinja2 come with the optional extra `simkit[report]`; without them the command says so in
one line (exit 2) instead of failing on import.
"""

from __future__ import annotations

import argparse
from typing import Any

from simkit.cli.exitcodes import ExitCode
from simkit.results import html_report_module


def add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of a `run --out` directory")
    p.add_argument("dir", help="a directory written by `simkit run --out`")
    p.add_argument("-o", "--output", default="report.html", help="the HTML file (default: report.html)")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    html = html_report_module()
    path = html.write(html.from_dir(args.dir), args.output)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return ExitCode.OK
