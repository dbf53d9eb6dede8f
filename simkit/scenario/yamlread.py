"""A bounded, strict YAML reader for every file simkit reads: scenarios, `extends:` bases, manifests.

It keeps PyYAML's safe loader (libyaml's `CSafeLoader` when built in) and adds what a hostile or
careless file needs, each refused quickly in one `ScenarioError` line naming the file and line:

- only a regular file is read (not a FIFO, `/dev/zero` or a directory), at most `MAX_BYTES`;
- nesting deeper than `MAX_DEPTH` (counted on the event stream, before any recursive composer);
- alias expansion beyond go-yaml's bound, which Kubernetes' `sigs.k8s.io/yaml` decodes with
  (gopkg.in/yaml.v2 decode.go `allowedAliasRatio`: past 100 aliases and 1,000 decoded nodes, at most
  99 % of the nodes may come from aliases up to 400,000 nodes, scaling down to 10 % at 4,000,000),
  plus an absolute `MAX_NODES`; a recursive alias (`&a [*a]`) is refused;
- a duplicate key is an error, as in Kubernetes' strict decoding (`sigs.k8s.io/yaml` `UnmarshalStrict`).

`read_text` maps every filesystem error (ENOENT, ENOTDIR, ENAMETOOLONG, ELOOP, EACCES, ...) to one line;
`inside` keeps `extends:` and trace paths inside the scenario's tree or a directory the user allowed.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from simkit.errors import ScenarioError

MAX_BYTES = 3 * 1024 * 1024
"""Largest YAML file read: 3 MiB, the Kubernetes API server's request body limit
(k8s.io/apiserver `MaxRequestBodyBytes`). A scenario is a few KiB."""
MAX_TRACE_BYTES = 256 * 1024 * 1024
"""Largest trace CSV read: 256 MiB (the shipped traces are under 3 MiB)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences (aliases expanded). A scenario needs about 10; go-yaml
stops at 10,000 (yaml.v2 scannerc.go `max_flow_level`, `max_indents`) but Python recurses per level."""
MAX_NODES = 1_000_000
"""Most nodes a document may expand to, aliases expanded."""
ALIAS_RATIO_LOW, ALIAS_RATIO_HIGH = 400_000, 4_000_000
"""go-yaml's `alias_ratio_range_low/high`."""

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PRETTY_REPARSE_BYTES = 256 * 1024  # re-parse malformed YAML in pure Python (PyYAML's wording) up to this

_OS_ERRORS = {
    errno.ENOENT: "no such file",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a directory, not a file",
}


def shown(path: str | Path, limit: int = 160) -> str:
    """A path as an error names it: one line, at most `limit` characters (middle elided)."""
    text = str(path).replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else f"{text[: limit // 2 - 2]}...{text[-(limit // 2 - 1) :]}"


def os_error_message(exc: OSError) -> str:
    """A filesystem error in words, without the path (the caller names it)."""
    return _OS_ERRORS.get(exc.errno or 0) or (os.strerror(exc.errno) if exc.errno else type(exc).__name__)


def read_text(path: str | Path, what: str = "scenario file", max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`; anything else is one `ScenarioError` line.

    The file is opened non-blocking (a FIFO nobody writes to does not hang) and checked with `fstat`
    before a byte is read, so `/dev/zero` and directories are refused at once.
    """
    name = shown(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(f"no such {what}", source=name) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {what}: {os_error_message(exc)}", source=name) from None
    except ValueError:  # an embedded NUL byte
        raise ScenarioError(f"cannot read {what}: invalid file name", source=name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, FIFO or socket"
            raise ScenarioError(f"cannot read {what}: not a regular file ({kind})", source=name)
        if info.st_size > max_bytes:
            raise ScenarioError(
                f"cannot read {what}: {info.st_size:,} bytes, over the {max_bytes:,}-byte limit", source=name
            )
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read {what}: {os_error_message(exc)}", source=name) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:  # grew while we read
        raise ScenarioError(f"cannot read {what}: over the {max_bytes:,}-byte limit", source=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"cannot read {what}: not UTF-8 text", line=line, source=name) from None


def check_file(path: str | Path, what: str, max_bytes: int, directory: bool = False) -> None:
    """Refuse, in one line, a path that is not a readable regular file of at most `max_bytes`.

    A missing path passes (the reader says what it expected there); so does a directory if allowed.
    """
    name = shown(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return  # the reader says what it expected there
    except OSError as exc:
        raise ScenarioError(f"cannot read {what}: {os_error_message(exc)}", source=name) from None
    except ValueError:
        raise ScenarioError(f"cannot read {what}: invalid file name", source=name) from None
    if stat.S_ISREG(info.st_mode) and not os.access(path, os.R_OK):
        raise ScenarioError(f"cannot read {what}: permission denied", source=name)
    if directory and stat.S_ISDIR(info.st_mode):
        return
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"cannot read {what}: not a regular file", source=name)
    if info.st_size > max_bytes:
        raise ScenarioError(
            f"cannot read {what}: {info.st_size:,} bytes, over the {max_bytes:,}-byte limit", source=name
        )


def inside(base_dir: Path, name: str, roots: Sequence[Path], what: str, source: str, field: str) -> Path:
    """`name` resolved against `base_dir` (symlinks followed); refused unless under one of `roots`."""
    try:
        path = Path(os.path.realpath(base_dir / name))
    except (OSError, ValueError):
        raise ScenarioError(f"cannot resolve {what} path", path=field, source=source) from None
    real_roots = list(dict.fromkeys(Path(os.path.realpath(r)) for r in roots))
    if not any(path == r or r in path.parents for r in real_roots):
        allowed = ", ".join(shown(r, 80) for r in real_roots)
        raise ScenarioError(
            f"{what} {shown(name, 80)!r} resolves outside the scenario's directory ({allowed}); "
            "allow its directory with --allow-dir",
            path=field,
            source=source,
        )
    return path


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting beyond MAX_DEPTH on libyaml's event stream (iterative: no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ScenarioError(
                        f"nested deeper than {MAX_DEPTH} levels",
                        line=event.start_mark.line + 1 if event.start_mark else None,
                        source=source,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # malformed: composing says where and why


def _yaml_error(exc: yaml.YAMLError, source: str, quote: bool, document: bool, text: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None)
    problem = (getattr(exc, "problem", None) or str(exc).splitlines()[0]) if quote else ""
    where = f"document {text[: mark.index].count(chr(10) + '---')}" if document and mark else ""
    message = f"not valid YAML: {problem}" if problem else "not valid YAML"
    return ScenarioError(message, path=where, line=mark.line + 1 if mark else None, source=source)


def compose_all(text: str, source: str, quote: bool = True, document: bool = False) -> list[yaml.Node]:
    """The node trees of every document in `text`, bounded and strict (see the module docstring).

    With `quote=False` no message quotes the file's content (for files that may not be scenarios).
    """
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"over the {MAX_BYTES:,}-byte limit", source=source)
    _check_depth(text, source)
    try:
        roots = [n for n in yaml.compose_all(text, Loader=_FAST_LOADER) if n is not None]
    except yaml.YAMLError as exc:
        deep = "nesting depth" in str(getattr(exc, "problem", ""))  # libyaml's own bound: no re-parse
        if _FAST_LOADER is yaml.SafeLoader or len(text) > _PRETTY_REPARSE_BYTES or deep:
            raise _yaml_error(exc, source, quote, document, text) from None
        try:
            list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError as exc2:
            raise _yaml_error(exc2, source, quote, document, text) from None
        except RecursionError:  # the pure-Python scanner recurses per level: libyaml's words will do
            pass
        raise _yaml_error(exc, source, quote, document, text) from None
    for root in roots:
        check_tree(root, source, quote)
    return roots


def compose(text: str, source: str, quote: bool = True) -> yaml.Node | None:
    """The node tree of a single-document file (None if empty); a second document is an error."""
    roots = compose_all(text, source, quote)
    if len(roots) > 1:
        raise ScenarioError(
            "expected one YAML document, found several ('---')",
            line=roots[1].start_mark.line + 1,
            source=source,
        )
    return roots[0] if roots else None


def construct(root: yaml.Node | None, source: str = "") -> Any:
    """Python values of a checked node tree with PyYAML's safe constructor (what `yaml.safe_load` gives)."""
    if root is None:
        return None
    try:
        return yaml.SafeLoader("").construct_document(root)
    except yaml.YAMLError as exc:  # e.g. an unknown tag (!!python/object): refused, never run
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark else None
        raise ScenarioError(f"not valid YAML: {problem}", line=line, source=source) from None


def load_value(text: str, source: str) -> Any:
    """One small YAML value (a `--set` or `--vary` value), bounded like a file and built safely."""
    return construct(compose(text, source), source)


def unwrap_lists(roots: Iterable[yaml.Node]) -> list[yaml.Node]:
    """Documents with each `kind: List` (what `kubectl get -o yaml` prints) replaced by its `items`."""
    out: list[yaml.Node] = []
    for root in roots:
        if isinstance(root, yaml.MappingNode):
            fields = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
            kind, items = fields.get("kind"), fields.get("items")
            if (
                isinstance(kind, yaml.ScalarNode)
                and kind.value == "List"
                and isinstance(items, yaml.SequenceNode)
            ):
                out.extend(items.value)
                continue
        out.append(root)
    return out


def check_tree(root: yaml.Node, source: str, quote: bool = True) -> None:
    """Refuse recursive aliases, expansion beyond go-yaml's bound or MAX_NODES, depth and duplicate keys.

    Sizes are memoised per node, so a "billion laughs" document is measured in time linear in its text.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            on_path.discard(key)
            if depth[key] > MAX_DEPTH:
                raise ScenarioError(
                    f"nested deeper than {MAX_DEPTH} levels (aliases expanded)",
                    line=node.start_mark.line + 1,
                    source=source,
                )
            if size[key] > MAX_NODES:
                raise ScenarioError(
                    f"expands to more than {MAX_NODES:,} nodes through aliases",
                    line=node.start_mark.line + 1,
                    source=source,
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise ScenarioError(
                "recursive alias (an anchor used inside itself)", line=node.start_mark.line + 1, source=source
            )
        on_path.add(key)
        distinct += 1
        if isinstance(node, yaml.MappingNode):
            _check_duplicates(node, source, quote)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)
    total = size[id(root)]
    aliased = total - distinct
    if aliased > 100 and total > 1000 and aliased / total > _allowed_alias_ratio(total):
        raise ScenarioError(
            f"excessive aliasing: {distinct:,} nodes expand to {total:,} (go-yaml's bound)",
            line=root.start_mark.line + 1,
            source=source,
        )


def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's `allowedAliasRatio`: 99 % up to 400,000 decoded nodes, 10 % from 4,000,000."""
    if decoded <= ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - ALIAS_RATIO_LOW) / (ALIAS_RATIO_HIGH - ALIAS_RATIO_LOW)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_duplicates(node: yaml.MappingNode, source: str, quote: bool) -> None:
    seen: dict[tuple[str, str], int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
            continue
        line = k.start_mark.line + 1
        first = seen.get((k.tag, k.value))
        if first is not None:
            name = f" {shown(k.value, 60)!r}" if quote else ""
            raise ScenarioError(f"duplicate key{name} (first at line {first})", line=line, source=source)
        seen[(k.tag, k.value)] = line
