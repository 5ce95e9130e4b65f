"""The one exception a kernel operation raises to fail a system call.

`raise KernelError(errno.ENOENT)` anywhere below a syscall handler; the dispatcher
turns it into -ENOENT in rax. Nothing else is turned into an errno: any other
exception out of a handler is a kernel bug and stops pyunik with a traceback.

Layer: shared by every layer under cli/api; imports nothing of pyunik.
"""

import errno as _errno
import os


class KernelError(Exception):
    __slots__ = ("errno",)

    def __init__(self, err: int):
        self.errno = err

    def __str__(self) -> str:
        return "%s (%s)" % (_errno.errorcode.get(self.errno, str(self.errno)),
                            os.strerror(self.errno))
