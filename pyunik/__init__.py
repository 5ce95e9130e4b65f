"""pyunik: run unmodified x86-64 Linux programs on a Unicorn CPU with a kernel in Python.

    pyunik.run(["guest_images/bin/hello-musl"])      -> exit status
    pyunik.Unikernel([...]).on_syscall("openat", fn)  -> hooks, then .run()

Layer: the top (cli/api): re-exports api.py's run and Unikernel and the kernel's
SyscallEvent; calls nothing itself.
"""

from .api import ProgramError, RunResult, Unikernel, run
from .kernel.kernel import SyscallEvent

__all__ = ["run", "Unikernel", "RunResult", "ProgramError", "SyscallEvent"]
__version__ = "0.1.0"
