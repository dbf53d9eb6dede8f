"""YAML code blocks of a Markdown document (such as the seed's infrastructure overview), for import."""

from __future__ import annotations

import re
from pathlib import Path

_FENCE = re.compile(r"^```ya?ml[ \t]*\n(.*?)^```", re.S | re.M)


def yaml_blocks(text: str) -> list[str]:
    """The bodies of the ```yaml fenced blocks, in order."""
    return [m.group(1) for m in _FENCE.finditer(text)]


def write_yaml_blocks(markdown: str | Path, out_dir: str | Path) -> list[Path]:
    """Write each YAML block of `markdown` to `out_dir/block-NN.yaml`; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, block in enumerate(yaml_blocks(Path(markdown).read_text(encoding="utf-8"))):
        path = out / f"block-{i:02d}.yaml"
        path.write_text(block, encoding="utf-8")
        paths.append(path)
    return paths
