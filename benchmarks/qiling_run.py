"""Run one static x86-64 program under qiling, for `benchmarks/run.py`.

    PYTHON_WITH_QILING benchmarks/qiling_run.py ROOTFS PROGRAM [ARGS...]

ROOTFS is a directory qiling treats as the guest's root (the benchmark uses a temporary
directory holding only the program). Logging is off (QL_VERBOSE.DISABLED), so the time
measured is emulation, not printing. The exit status is the guest's.
"""

import sys


def main(argv):
    if len(argv) < 2:
        print("usage: qiling_run.py ROOTFS PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    from qiling import Qiling
    from qiling.const import QL_VERBOSE

    rootfs, program = argv[0], argv[1:]
    ql = Qiling(program, rootfs, verbose=QL_VERBOSE.DISABLED)
    ql.run()
    code = getattr(ql.os, "exit_code", 0)
    sys.stdout.flush()
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
