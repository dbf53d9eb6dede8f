"""Safe writes for exports: names are checked, paths stay inside the output directory, files are
replaced whole (temporary file in the same directory, then `os.replace`), and everything is validated
before the first byte is written, so an error leaves nothing half-written.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from simkit.errors import ExportError

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_FILE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_dns_label(name: object, what: str) -> str:
    """Return `name` if it is a DNS-1123 label (what Kubernetes and file names here need), else refuse."""
    if not isinstance(name, str) or len(name) > 63 or not _DNS1123_LABEL.match(name):
        raise ExportError(
            f"{what} {name!r} is not a valid DNS-1123 label "
            "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63)"
        )
    return name


def resolve_inside(out_dir: Path, relative: str) -> Path:
    """The absolute path of `relative` under `out_dir`; refuses absolute paths, '..' and symlink escapes."""
    rel = PurePosixPath(relative)
    plain = all(p not in (".", "..") and _FILE_PART.match(p) for p in rel.parts)
    if rel.is_absolute() or not rel.parts or not plain:
        raise ExportError(f"refusing to write {relative!r}: not a plain relative path inside --out")
    root = out_dir.resolve()
    target = (root / Path(*rel.parts)).resolve()
    if target != root and root not in target.parents:
        raise ExportError(f"refusing to write {relative!r}: it resolves outside {root}")
    return target


def write_files(out_dir: str | Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` (relative path -> text) under `out_dir`; check every path before writing any."""
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise ExportError(f"--out {str(root)!r} exists and is not a directory")
    targets = {rel: resolve_inside(root, rel) for rel in files}
    for rel, target in targets.items():
        if target.is_dir():
            raise ExportError(f"refusing to write {rel!r}: a directory of that name exists")
    written = []
    for rel, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, files[rel])
        written.append(target)
    return written


def atomic_write(target: Path, text: str) -> None:
    """Replace `target` whole: write a temporary file beside it, fsync, then `os.replace`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
