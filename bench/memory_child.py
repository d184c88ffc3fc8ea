"""Child processes of case 4: one streams N signals into a fresh store, a second one processes them.

`python -m bench.memory_child prepare N DIR` fills DIR/memory-N.db in chunks (bench.data.load) and prints
{"n", "peak_rss_mb", "ru_maxrss_mb"}; `python -m bench.memory_child process N DIR [CAP_SECONDS]` runs the
signal core on it (case 1's pipeline; with a cap the intake stops after the batch that crosses it) and prints
{"n", "peak_rss_mb", "ru_maxrss_mb", "seconds", "processed"}. `peak_rss_mb` is the process's own peak (VmHWM,
see `_peak_mb`). Two processes, so the processing peak is not hidden by the setup's.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _peak_mb() -> float:
    """This process's own peak RSS: VmHWM of /proc/self/status (Linux), else ru_maxrss.

    ru_maxrss is not enough on Linux: the kernel carries the parent's peak over fork + exec into the child's
    ru_maxrss, so a child of a 130 MB benchmark process reports at least 130 MB whatever it does itself.
    VmHWM is the high-water mark of the child's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return _ru_maxrss_mb()


def main(argv: list[str]) -> int:
    mode, n, workdir = argv[0], int(argv[1]), Path(argv[2])
    from bench import signal_core

    db = workdir / f"memory-{n}.db"
    if mode == "prepare":
        signal_core.prepare_store(db, n)
        print(json.dumps({"n": n, "peak_rss_mb": _peak_mb(), "ru_maxrss_mb": _ru_maxrss_mb()}))
        return 0
    cap = float(argv[3]) if len(argv) > 3 else None
    started = time.perf_counter()
    outcome = signal_core.run_core(signal_core.sqlite_url(db), batch_size=signal_core.default_batch_size(),
                                   cap_seconds=cap)
    print(json.dumps({"n": n, "peak_rss_mb": _peak_mb(), "ru_maxrss_mb": _ru_maxrss_mb(),
                      "seconds": time.perf_counter() - started,
                      "processed": outcome.claimed}))
    db.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
