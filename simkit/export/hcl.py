"""A tiny HCL writer for variable values and declarations, laid out the way `terraform fmt` does
(2-space indent, `=` aligned over runs of single-line attributes), so `terraform fmt -check` passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Raw(str):
    """Text written as-is (a type expression such as `list(string)`)."""


def _key(key: str) -> str:
    return key if _IDENT.match(key) else json.dumps(key)


def _scalar(value: Any) -> str | None:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    return None


def _inline(value: Any) -> str | None:
    """One-line form of a value, or None when it must span lines."""
    text = _scalar(value)
    if text is not None:
        return text
    if isinstance(value, list) and all(_scalar(v) is not None for v in value):
        return "[" + ", ".join(str(_scalar(v)) for v in value) + "]"
    if isinstance(value, Mapping) and not value:
        return "{}"
    return None


def _block_value(value: Any, indent: int) -> list[str]:
    """Lines of a multi-line map or list; the first line continues `key = `."""
    pad = "  " * indent
    if isinstance(value, Mapping):
        return ["{", *attributes(value, indent + 1), pad + "}"]
    lines = ["["]
    for item in value:
        inner = _inline(item)
        if inner is not None:
            lines.append(f"{pad}  {inner},")
        else:
            body = _block_value(item, indent + 1)
            lines.append(f"{pad}  {body[0]}")
            lines.extend(body[1:-1])
            lines.append(body[-1] + ",")
    lines.append(pad + "]")
    return lines


def attributes(
    values: Mapping[str, Any], indent: int = 0, comments: Mapping[str, str] | None = None
) -> list[str]:
    """`key = value` lines; runs of one-line attributes get their `=` aligned like `terraform fmt`."""
    pad = "  " * indent
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for raw_key, value in values.items():
        key = _key(raw_key)
        note = (comments or {}).get(raw_key)
        inline = _inline(value)
        if note or inline is None:
            flush()
        if note:
            out.append(f"{pad}# {note}")
        if inline is not None:
            run.append((key, inline))
            continue
        body = _block_value(value, indent)
        out.append(f"{pad}{key} = {body[0]}")
        out.extend(body[1:])
    flush()
    return out


def variable_block(name: str, description: str, type_expr: str) -> str:
    """A `variable` declaration; a multi-line type expression is indented under the block."""
    lines = [f'variable "{name}" {{', f"  description = {json.dumps(description)}"]
    type_lines = type_expr.splitlines()
    if len(type_lines) == 1:
        lines[-1] = f"  description = {json.dumps(description)}"
        lines.append(f"  type        = {type_expr}")
    else:
        lines.append(f"  type = {type_lines[0]}")
        lines.extend("  " + line for line in type_lines[1:])
    lines.append("}")
    return "\n".join(lines) + "\n"
