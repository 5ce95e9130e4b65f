"""Run one command and record its wall time and peak RSS, for `benchmarks/run.py`.

    python -S -I benchmarks/rusage.py RESULT_FILE COMMAND [ARGS...]

Writes "wall_seconds maxrss_kib exit_code" to RESULT_FILE and exits with the command's
exit code (128 + N if killed by signal N). stdin, stdout and stderr pass through.

Why a separate small process: Linux carries a process's peak RSS (ru_maxrss) over
exec from the address space it had before, so a child spawned straight from the
benchmark (tens of MB after its in-process measurements) would report at least the
benchmark's own size. Spawned from this small interpreter, the floor is this
interpreter's few MB, and the wall time is taken around spawn and reap only, without
this wrapper's own start-up.
"""

import os
import sys
import time


def main(argv):
    result, cmd = argv[0], argv[1:]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    code = 128 - code if code < 0 else code
    with open(result, "w") as f:
        f.write("%.9f %d %d\n" % (wall, ru.ru_maxrss, code))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
