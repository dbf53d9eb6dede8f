"""Files simkit ships inside the package, so an installed wheel runs without a checkout.

``catalog/`` holds the price catalog (``instance_types.csv``, ``prices.csv`` and the ``README.md`` that
cites their sources) and ``scenarios/`` the example scenarios with the default one,
``platform-baseline.yaml`` (the others ``extends:`` it, relative to this folder). Both are byte-identical
copies of the repository's user-facing ``data/`` and ``scenarios/``: edit those, then run
``make sync-data``; ``tests/test_wheel.py`` fails while the copies differ.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["packaged"]


def packaged(*parts: str) -> Path:
    """The path of a shipped file or folder, e.g. ``packaged("scenarios", "platform-baseline.yaml")``.

    A path on disk, not a zip member: scenarios resolve ``extends:`` and traces beside their file.
    """
    found = resources.files(__name__).joinpath(*parts)
    if not isinstance(found, Path):  # a zipped install (pip always unpacks wheels)
        raise RuntimeError(f"simkit must be installed as files on disk to read {'/'.join(parts)}")
    return found
