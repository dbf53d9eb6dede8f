"""Peak resident memory of this process since it started (its own program, not its parent's).

`getrusage(RUSAGE_SELF).ru_maxrss` is not that on Linux: the kernel keeps a high-water mark across
`execve` that includes the forked parent's resident set (`setmax_mm_hiwater_rss` in fs/exec.c), so a
bench child started by a parent of 800 MB reported 800 MB whatever it used. `VmHWM` in
/proc/self/status is the high-water mark of this program's own memory map, new at exec.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """VmHWM in MB where /proc exists (Linux), else getrusage's maxrss (bytes on macOS, KB elsewhere)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024
