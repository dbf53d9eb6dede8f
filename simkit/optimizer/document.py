"""The chosen plan as a scenario YAML of its own: the source document (its `extends:` chain merged
in) with the plan's overrides set, written so that `simkit export`, `run` and `check` take it as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from simkit.scenario import yamlread

# The loader's own document steps (read, merge `extends:`, set a dotted path), so that the file
# written holds exactly what `parse_scenario(text, overrides=...)` validated.
from simkit.scenario.loader import DEFAULT_SCENARIO, _extend, _read_doc, _set_path  # noqa: PLC2701


def scenario_document(
    path: str | Path | None,
    overrides: Mapping[str, Any],
    header: Sequence[str] = (),
    allow_dirs: Sequence[str | Path] = (),
) -> str:
    """The YAML text of the scenario at `path` (None: the default one) with `overrides` applied.

    `header` lines become comments at the top. A relative trace path stays relative: write the file
    beside the original scenario (or copy the trace) to run it with that trace.
    """
    source = Path(path) if path is not None else DEFAULT_SCENARIO
    base_dir = source.resolve().parent
    shown = yamlread.shown(source)
    data, lines = _read_doc(yamlread.read_text(source), shown)
    data, _ = _extend(data, lines, base_dir, (shown,), (base_dir, *map(Path, allow_dirs)))
    for dotted, value in overrides.items():
        _set_path(data, dotted, value)
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=110, allow_unicode=True)
    return "".join(f"# {line}\n" for line in header) + body


__all__ = ["scenario_document"]
