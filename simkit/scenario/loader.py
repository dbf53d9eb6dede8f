"""Read a scenario YAML once: parse safely, validate into typed models, report errors by path and line.

Errors become one `ScenarioError` line such as
``cluster.node_pools[1].max_nodes: must be >= min_nodes (3), got 2 (line 14)``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simkit._data import packaged
from simkit.errors import ScenarioError
from simkit.scenario import yamlread
from simkit.scenario.model import PathError, Scenario

Loc = tuple[str | int, ...]

DEFAULT_SCENARIO = packaged("scenarios", "platform-baseline.yaml")
"""The seed platform, shipped in the package (a copy of the repository's scenarios/platform-baseline.yaml)."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from (for relative trace paths) and its content hash."""

    scenario: Scenario
    source: Path | None
    sha256: str

    @property
    def base_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()


def load_scenario(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    allow_dirs: Sequence[Path | str] = (),
) -> Scenario:
    """Load and validate a scenario file (the default platform scenario when `path` is None).

    `extends:` and trace paths must resolve inside the file's directory tree or one of `allow_dirs`.
    """
    return load_scenario_file(path, overrides, allow_dirs).scenario


def load_scenario_file(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    allow_dirs: Sequence[Path | str] = (),
) -> LoadedScenario:
    """Like `load_scenario`, keeping the source path and a hash of the validated content."""
    if path is not None and not isinstance(path, str | Path):
        raise ScenarioError(f"expected a scenario file path, got {type(path).__name__}")
    source = Path(path) if path is not None else DEFAULT_SCENARIO
    text = yamlread.read_text(source)
    base_dir = Path(os.path.realpath(source)).parent
    roots = (base_dir, *map(Path, allow_dirs))
    scenario = parse_scenario(
        text, source=yamlread.shown(source), overrides=overrides, base_dir=base_dir, allow_dirs=roots
    )
    if scenario.traffic.load.trace is not None:  # a missing or malformed trace is bad input, found now
        from simkit.traffic.load import read_trace

        trace = yamlread.inside(
            base_dir, scenario.traffic.load.trace.path, roots, "trace", str(source), "traffic.load.trace.path"
        )
        yamlread.check_file(trace, "trace file", yamlread.MAX_TRACE_BYTES)
        read_trace(scenario.traffic.load.trace, base_dir)
    return LoadedScenario(scenario, source.resolve(), scenario_hash(scenario))


def parse_scenario(
    text: str,
    source: str = "<string>",
    overrides: dict[str, Any] | None = None,
    base_dir: Path | None = None,
    allow_dirs: Sequence[Path | str] = (),
) -> Scenario:
    """Validate scenario YAML text; `overrides` maps dotted paths ("simulation.seed") to new values.

    A scenario may start from another with `extends: other.yaml` (relative to its own directory):
    mappings are merged key by key, lists of named things by `name` (`$patch: delete` removes one),
    anything else is replaced whole (see `_Merge`). The base must lie under `base_dir` (default: the
    working directory) or one of `allow_dirs`.
    """
    if not isinstance(text, str):
        raise ScenarioError(f"expected scenario YAML text, got {type(text).__name__}", source=source)
    root_dir = base_dir or Path.cwd()
    data, lines = _read_doc(text, source)
    data, lines = _extend(data, lines, root_dir, (source,), (root_dir, *map(Path, allow_dirs)))
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted, value)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _to_scenario_error(exc, data, lines, source) from None


Lines = dict[Loc, tuple[str, int]]


def _read_doc(text: str, source: str, quote: bool = True) -> tuple[dict[str, Any], Lines]:
    """The document's values and line marks, read by the bounded, strict reader (`yamlread`)."""
    root = yamlread.compose(text, source, quote)
    try:
        data = yamlread.construct(root)
    except ScenarioError as exc:
        raise ScenarioError(
            exc.message if quote else "not valid YAML", line=exc.line, source=source
        ) from None
    if not quote and not (isinstance(data, dict) and set(data) <= _SCENARIO_KEYS):
        raise ScenarioError(
            "not a scenario file (expected a mapping of cluster:, workloads:, ...)", source=source
        )
    if not isinstance(data, dict):
        raise ScenarioError(
            "expected a mapping at the top level (cluster:, workloads:, traffic:, ...)", source=source
        )
    return data, {loc: (source, line) for loc, line in _line_map(root).items()}


def _extend(
    data: dict[str, Any], lines: Lines, base_dir: Path, chain: tuple[str, ...], roots: tuple[Path, ...]
) -> tuple[dict[str, Any], Lines]:
    parent = data.pop("extends", None)
    if parent is None:
        return data, lines
    if not isinstance(parent, str):
        raise ScenarioError(
            "expected a file name", path="extends", line=lines.get(("extends",), ("", 0))[1], source=chain[-1]
        )
    path = yamlread.inside(base_dir, parent, (*roots, DEFAULT_SCENARIO.parent), "file", chain[-1], "extends")
    if str(path) in chain:
        raise ScenarioError(f"extends itself through {path.name}", path="extends", source=chain[-1])
    base, base_lines = _read_doc(yamlread.read_text(path), yamlread.shown(path), quote=False)
    base, base_lines = _extend(base, base_lines, path.parent, (*chain, str(path)), roots)
    merger = _Merge(base_lines, lines, chain[-1])
    merged = merger.merge(base, data, (), (), ())
    return merged, merger.lines


_SCENARIO_KEYS = {f.alias or name for name, f in Scenario.model_fields.items()} | {"extends"}


PATCH = "$patch"  # strategic merge patch's directive: `{name: x, $patch: delete}` removes item x


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


class _Merge:
    """A child scenario over its base, with the YAML line of every value in the result.

    Mappings merge key by key; lists of named things (node pools, workloads, routes, queues, faults,
    DaemonSets: every item has a `name`) merge item by item on `name`, as kustomize's strategic merge
    does with `patchMergeKey: name`: an item of the child updates the base's item of that name, a new
    name is appended, and `{name: x, $patch: delete}` removes x. Anything else is replaced whole.
    """

    def __init__(self, base_lines: Lines, child_lines: Lines, source: str) -> None:
        self.base_lines, self.child_lines, self.source = base_lines, child_lines, source
        self.lines: Lines = {}

    def _copy(self, lines: Lines, src: Loc, dst: Loc) -> None:
        n = len(src)
        for loc, where in lines.items():
            if loc[:n] == src:
                self.lines[dst + loc[n:]] = where

    def merge(self, base: Any, child: Any, bloc: Loc, cloc: Loc, oloc: Loc) -> Any:
        own = self.child_lines.get(cloc) or self.base_lines.get(bloc)
        if own is not None:
            self.lines[oloc] = own
        if isinstance(base, dict) and isinstance(child, dict):
            out = {}
            for key, value in base.items():
                if key in child:
                    out[key] = self.merge(value, child[key], (*bloc, key), (*cloc, key), (*oloc, key))
                else:
                    out[key] = value
                    self._copy(self.base_lines, (*bloc, key), (*oloc, key))
            for key, value in child.items():
                if key not in base:
                    out[key] = value
                    self._copy(self.child_lines, (*cloc, key), (*oloc, key))
            return out
        if _named_list(base) and _named_list(child):
            return self._merge_named(base, child, bloc, cloc, oloc)
        self._copy(self.child_lines, cloc, oloc)
        return child

    def _merge_named(self, base: list[Any], child: list[Any], bloc: Loc, cloc: Loc, oloc: Loc) -> list[Any]:
        by_name = {item["name"]: j for j, item in enumerate(child)}
        names = {item["name"] for item in base}
        for j, item in enumerate(child):
            if item.get(PATCH) not in (None, "delete"):
                raise self._error((*cloc, j, PATCH), f"expected 'delete', got {item[PATCH]!r}")
            if item.get(PATCH) == "delete" and item["name"] not in names:
                raise self._error((*cloc, j, "name"), f"no item named {item['name']!r} in the base to delete")
        out: list[Any] = []
        for i, item in enumerate(base):
            k = by_name.get(item["name"])
            if k is None:
                self._copy(self.base_lines, (*bloc, i), (*oloc, len(out)))
                out.append(item)
            elif child[k].get(PATCH) != "delete":
                out.append(self.merge(item, child[k], (*bloc, i), (*cloc, k), (*oloc, len(out))))
        for j, item in enumerate(child):
            if item["name"] not in names:
                self._copy(self.child_lines, (*cloc, j), (*oloc, len(out)))
                out.append(item)
        return out

    def _error(self, loc: Loc, message: str) -> ScenarioError:
        where = self.child_lines.get(loc) or self.child_lines.get(loc[:-1])
        return ScenarioError(
            message,
            path=".".join(str(p) for p in loc),
            line=where[1] if where else None,
            source=where[0] if where else self.source,
        )


def scenario_hash(scenario: Scenario) -> str:
    """A stable hash of the validated content: same scenario, same hash, whatever the YAML spelling."""
    blob = json.dumps(scenario.model_dump(mode="python"), sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _index(items: list[Any], part: str) -> int:
    """A list position: a number, or the `name` of an item (`workloads.bff-service.replicas`)."""
    if part.lstrip("-").isdigit():
        return int(part)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    raise ValueError(part)


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    node: Any = data
    parts = dotted.split(".")
    try:
        for part in parts[:-1]:
            node = node[_index(node, part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[_index(node, parts[-1])] = value
        elif isinstance(node, dict):
            node[parts[-1]] = value
        else:
            raise TypeError
    except (ValueError, IndexError, TypeError, AttributeError):
        raise ScenarioError(f"--set {dotted}: no such place in the scenario") from None


def _line_map(node: yaml.Node | None, loc: Loc = ()) -> dict[Loc, int]:
    """Map every path in the YAML document to the (1-based) line where its key or item starts."""
    lines: dict[Loc, int] = {}
    if node is None:
        return lines
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            lines[child] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_map(value, child).items() if k != child})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_map(item, (*loc, i)))
    return lines


def _to_scenario_error(exc: ValidationError, data: Any, lines: Lines, source: str) -> ScenarioError:
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # typos first: they explain
    first = errors[0]
    loc = _real_loc(first["loc"], data)
    ctx_error = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_error, PathError):
        loc = loc + ctx_error.path
    message = _message(first, loc, data)
    also = []
    for other in errors[1:]:  # every error, one line each, not "+2 more"
        oloc = _real_loc(other["loc"], data)
        octx = (other.get("ctx") or {}).get("error")
        if isinstance(octx, PathError):
            oloc = oloc + octx.path
        owhere = _line_for(oloc, lines)
        line = f" (line {owhere[1]})" if owhere else ""
        also.append(f"{format_loc(oloc)}: {_message(other, oloc, data)}{line}")
    where = _line_for(loc, lines)
    return ScenarioError(
        message,
        path=format_loc(loc),
        line=where[1] if where else None,
        source=where[0] if where else source,
        also=tuple(also),
    )


def _real_loc(loc: tuple[Any, ...], data: Any) -> Loc:
    """Keep only the parts of a pydantic location that exist in the input (drops union-branch tags)."""
    out: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            out.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and out[-1:] != [part]:
            out.append(part)  # a missing key: name it, then stop
            break
        else:
            continue
    return tuple(out)


def _message(err: Any, loc: Loc, data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key" + _known_keys_hint(loc)
    if kind == "too_short":
        return f"expected at least {err['ctx']['min_length']} item(s), got {_short(err.get('input'))}"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    msg = msg[:1].lower() + msg[1:]
    if (
        kind.endswith("_type")
        or kind.endswith("_parsing")
        or kind
        in (
            "literal_error",
            "greater_than_equal",
            "greater_than",
            "less_than_equal",
            "less_than",
            "too_short",
            "finite_number",
        )
    ):
        msg = f"{msg}, got {_short(err.get('input'))}"
    return msg


def _known_keys_hint(loc: Loc) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    names = sorted(f.alias or name for name, f in model.model_fields.items())
    close = difflib.get_close_matches(str(loc[-1]), names, n=1) if loc else []
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (expected one of: {', '.join(names)})"


def _model_at(loc: Loc) -> Any:
    """The pydantic model class that validates the mapping at `loc`, for listing its keys."""
    from typing import get_args, get_origin

    from pydantic import BaseModel

    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann]
        while candidates:
            t = candidates.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                model = t
                break
            if get_origin(t) is not None or get_args(t):
                candidates.extend(get_args(t))
        else:
            return None
    return model


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line_for(loc: Loc, lines: Lines) -> tuple[str, int] | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def format_loc(loc: Loc) -> str:
    """('cluster', 'node_pools', 1, 'max_nodes') -> 'cluster.node_pools[1].max_nodes'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
