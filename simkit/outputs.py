"""Outputs that survive a crash and never overwrite the user's files (`run --out`, `export --out`,
`sweep --out`, `import -o`).

A directory output is written whole into a staging directory beside the destination, every file and
the directory `fsync`ed, then swapped in: with Linux's `renameat2(RENAME_EXCHANGE)` in one atomic
step, elsewhere by two renames (destination -> backup, staging -> destination). At every instant the
destination is the whole old output or the whole new one; after a crash between the two renames the
next run restores the backup (and says so), and leftover staging directories are removed (and said).

Ownership is a manifest (`MANIFEST`) listing every file simkit wrote with its SHA-256: a directory is
simkit's to replace only if its files are exactly those, unchanged (an empty marker anyone can plant
is not enough), checked before the work starts and again at the swap. A single-file output keeps the
same record in a sidecar `.NAME.simkit.json`. `force=True` (`--force`) overwrites what simkit did not
write; in a directory, the user's files that the new output does not name are kept.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from simkit.errors import SimkitError
from simkit.scenario.yamlread import os_error_message, shown

MANIFEST = ".simkit-manifest.json"
_STAGING = ".simkit-staging-"
_BACKUP = ".simkit-backup"
_KILL_ENV = "SIMKIT_TEST_KILL_AT"
"""Tests only: SIGKILL this process at the named point ("staging", "swapped", "cleanup")."""
_NO_EXCHANGE_ENV = "SIMKIT_TEST_NO_EXCHANGE"
"""Tests only: swap by two renames even where RENAME_EXCHANGE exists."""


class OutputError(SimkitError):
    """An output cannot be written safely: one line naming the path (CLI exit code 2)."""


def _hook(point: str) -> None:
    if os.environ.get(_KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _say(message: str) -> None:
    print(f"simkit: {message}", file=sys.stderr)


def _fail(path: Path, exc: OSError | str, flag: str = "--out") -> OutputError:
    why = exc if isinstance(exc, str) else os_error_message(exc)
    if isinstance(exc, FileExistsError):  # mkdir(parents=True) met a file on the way
        why = "a part of the path is not a directory"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        why = "read-only file system"
    return OutputError(f"{flag} {shown(path)}: {why}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files_under(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if not p.is_dir()}


def owned(dest: Path) -> bool:
    """True if `dest` holds exactly the files its simkit manifest lists, each with its recorded hash."""
    try:
        listed = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))["files"]
        present = _files_under(dest)
        present.pop(MANIFEST, None)
        if not isinstance(listed, dict) or set(listed) != set(present):
            return False
        return all(
            not present[rel].is_symlink() and _sha(present[rel].read_bytes()) == digest
            for rel, digest in listed.items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def recover(dest: Path) -> None:
    """Finish or undo what a killed run left beside `dest`, saying so: restore or drop the backup,
    remove staging directories."""
    backup = dest.parent / f".{dest.name}{_BACKUP}"
    if backup.exists() or backup.is_symlink():
        if not dest.exists() and not dest.is_symlink():
            os.rename(backup, dest)
            _fsync_dir(dest.parent)
            _say(f"restored the previous output {dest} from an interrupted run")
        else:
            shutil.rmtree(backup, ignore_errors=True)
            _say(f"removed the backup {backup} left by an interrupted run")
    for stale in dest.parent.glob(f".{dest.name}{_STAGING}*"):
        shutil.rmtree(stale, ignore_errors=True)
        _say(f"removed the staging directory {stale} left by an interrupted run")


def check_destination(out: str | Path, force: bool = False) -> Path:
    """Check, before any work, that `out` can become a simkit output directory; the absolute path.

    Cleans up after a killed run first. Refuses (one line) a path through a file, an over-long name, a
    read-only or unwritable parent, an existing file, and a directory simkit did not write (unless
    `force`).
    """
    dest = Path(os.path.abspath(out))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        recover(dest)
        if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
            raise _fail(dest, "exists and is not a directory")
        if dest.exists() and not force and any(dest.iterdir()) and not owned(dest):
            raise _fail(
                dest,
                "not empty and not a simkit output directory (files it did not write); use --force",
            )
        probe = dest.parent / f".{dest.name}{_STAGING}probe-{os.getpid()}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise _fail(dest, exc) from None
    return dest


def replace_dir(out: str | Path, files: Mapping[str, str | bytes], force: bool = False) -> Path:
    """Make `out` hold exactly `files` (relative POSIX path -> content) plus the manifest, atomically."""
    dest = check_destination(out, force)
    staging = dest.parent / f".{dest.name}{_STAGING}{os.getpid()}"
    try:
        staging.mkdir()
        digests = {}
        for i, (rel, content) in enumerate(sorted(files.items())):
            data = content.encode("utf-8") if isinstance(content, str) else content
            _write(staging / rel, data)
            digests[rel] = _sha(data)
            if i == len(files) // 2:
                _hook("staging")
        if force and dest.is_dir():  # keep the user's other files
            for rel, path in _files_under(dest).items():
                if rel not in files and rel != MANIFEST:
                    (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, staging / rel, follow_symlinks=False)
        manifest = {"tool": "simkit", "files": digests}
        _write(staging / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        for d in sorted({(staging / rel).parent for rel in files} | {staging}, key=lambda p: -len(p.parts)):
            _fsync_dir(d)
        if dest.exists() and not force and any(dest.iterdir()) and not owned(dest):  # changed meanwhile?
            raise _fail(
                dest, "changed while simkit was writing (a file simkit did not write); nothing replaced"
            )
        _swap(staging, dest)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _fail(dest, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _swap(staging: Path, dest: Path) -> None:
    if dest.exists() and _exchange(staging, dest):  # staging now holds the old output
        _fsync_dir(dest.parent)
        _hook("swapped")
        shutil.rmtree(staging)
        return
    backup = dest.parent / f".{dest.name}{_BACKUP}"
    if dest.exists():
        os.rename(dest, backup)
        _fsync_dir(dest.parent)
        _hook("swapped")
    os.rename(staging, dest)
    _fsync_dir(dest.parent)
    _hook("cleanup")
    shutil.rmtree(backup, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where unavailable."""
    if os.environ.get(_NO_EXCHANGE_ENV) or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sidecar(path: Path) -> Path:
    return path.parent / f".{path.name}.simkit.json"


def check_file_destination(out: str | Path, force: bool = False, flag: str = "--out") -> Path:
    """Check, before any work, that the single file `out` may be written; the absolute path."""
    path = Path(os.path.abspath(out))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise _fail(path, "is a directory; give a file name", flag)
        if path.exists() and not force:
            try:
                record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
                mine = record.get("sha256") == _sha(path.read_bytes())
            except (OSError, ValueError, AttributeError):
                mine = False
            if not mine:
                raise _fail(path, "exists and was not written by simkit; use --force to replace it", flag)
        probe = path.parent / f".{path.name}{_STAGING}probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise _fail(path, exc, flag) from None
    return path


def write_file(out: str | Path, text: str, force: bool = False, flag: str = "--out") -> Path:
    """Replace the single file `out` whole (temporary file, fsync, rename) and record its hash in a
    sidecar; refuse a file simkit did not write unless `force`."""
    path = check_file_destination(out, force, flag)
    data = text.encode("utf-8")
    tmp = path.parent / f".{path.name}{_STAGING}{os.getpid()}"
    try:
        try:
            _write(tmp, data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _write(_sidecar(path), json.dumps({"tool": "simkit", "sha256": _sha(data)}).encode())
        _fsync_dir(path.parent)
    except OSError as exc:
        raise _fail(path, exc, flag) from None
    return path
