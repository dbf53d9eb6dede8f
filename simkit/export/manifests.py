"""Read Kubernetes manifests for import: files or directories of multi-document YAML (`safe_load_all`
only), each document tagged with its file, index and line numbers so a refusal can name them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from simkit.errors import ScenarioError
from simkit.scenario import yamlread
from simkit.scenario.loader import _line_map

YAML_SUFFIXES = (".yaml", ".yml")


class ManifestError(ScenarioError):
    """A manifest that cannot be understood: names the file, the document index and the field."""

    def __init__(self, doc: Doc, field_path: str, message: str) -> None:
        line = doc.line_of(field_path)
        super().__init__(
            message,
            path=f"document {doc.index}, {field_path}" if field_path else f"document {doc.index}",
            line=line,
            source=doc.file,
        )


@dataclass
class Doc:
    """One YAML document of one file."""

    file: str
    index: int
    obj: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", "")) if isinstance(self.obj, dict) else ""

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""

    @property
    def namespace(self) -> str | None:
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        return str(ns) if ns else None

    @property
    def where(self) -> str:
        return f"{self.file}: document {self.index}"

    def line_of(self, dotted: str) -> int | None:
        """Line of a dotted path like `spec.template.spec.containers[0].resources` (or its parent)."""
        loc: list[str | int] = []
        for part in dotted.replace("]", "").replace("[", ".").split("."):
            if part:
                loc.append(int(part) if part.isdigit() else part)
        for cut in range(len(loc), -1, -1):
            if tuple(loc[:cut]) in self.lines:
                return self.lines[tuple(loc[:cut])]
        return None

    def error(self, field_path: str, message: str) -> ManifestError:
        return ManifestError(self, field_path, message)


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories (recursively, *.yaml / *.yml, sorted); files are taken as given."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        yamlread.check_file(path, "manifest file", yamlread.MAX_BYTES, directory=True)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()))
        elif path.is_file():
            out.append(path)
        else:
            raise ScenarioError("no such file or directory", source=str(path))
    return out


def read_documents(text: str, source: str) -> list[Doc]:
    """Parse multi-document YAML text; a syntax error is refused with file, document and line."""
    nodes = yamlread.unwrap_lists(yamlread.compose_all(text, source, document=True))  # bounded, strict
    return [Doc(source, i, yamlread.construct(node, source), _line_map(node)) for i, node in enumerate(nodes)]


def read_manifests(paths: Iterable[str | Path]) -> list[Doc]:
    """Every document of every file under `paths`."""
    docs: list[Doc] = []
    for path in manifest_files(paths):
        text = yamlread.read_text(path, "manifest file")
        docs.extend(read_documents(text, str(path)))
    return docs


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def fit_model(model: type[BaseModel], data: Any, where: str, dropped: list[str]) -> Any:
    """Keep only the keys `model` (and its nested models) know; record each dropped field's path."""
    if not isinstance(data, Mapping):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        info = model.model_fields.get(str(key))
        if info is None:
            dropped.append(f"{where}.{key}")
            continue
        nested = _models_in(info.annotation)
        if nested and isinstance(value, Mapping):
            value = fit_model(nested[0], value, f"{where}.{key}", dropped)
        elif nested and isinstance(value, list):
            value = [fit_model(nested[0], v, f"{where}.{key}[{i}]", dropped) for i, v in enumerate(value)]
        out[str(key)] = value
    return out
