"""Run a script or ``-m module`` in this interpreter, then print its peak RSS to stderr.

Usage: ``python benchmarks/peak.py script.py [args]`` or ``... peak.py -m module [args]``.
"""

from __future__ import annotations

import resource
import runpy
import sys


def _vm_hwm_mb() -> float:
    """Peak RSS of this process image: VmHWM (reset by exec, unlike ru_maxrss, which a child
    inherits from a large parent across fork + exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    args = sys.argv[1:]
    code = 0
    try:
        if args[0] == "-m":
            sys.argv = [args[1], *args[2:]]
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = args
            runpy.run_path(args[0], run_name="__main__")
    except SystemExit as exc:
        code = int(exc.code or 0)
    peak_mb = _vm_hwm_mb()
    print(f"PEAK_RSS_MB={peak_mb:.1f}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
