"""The x86-64 Linux ABI in one namespace: `from ..abi import linux as L; L.O_CREAT`.

Linux facts only. Each is defined once, in the module named after the Linux header
it mirrors (fcntl.py, mman.py, signal.py, ...); this module only gathers them, as
gVisor's pkg/abi/linux is one package over one file per header. Code that needs one header
may import that module instead. ELF (elf.py), inotify (inotify.py), the syscall numbers
(syscall_numbers.py), CPU feature names (cpufeatures.py), device-number encoding
(kdev_t.py) and libpcap's file format (pcap.py) stay apart: import them by name.
"""

# ruff: noqa: F401, F403
from .auxvec import *
from .binfmts import *
from .capability import *
from .dirent import *
from .eventfd import *
from .eventpoll import *
from .fcntl import *
from .fs import *
from .futex import *
from .icmp import *
from .if_arp import *
from .if_ether import *
from .inet import *
from .ioctls import *
from .ip import *
from .ipc import *
from .limits import *
from .magic import *
from .nameser import *
from .memfd import *
from .mman import *
from .netdevice import *
from .netlink import *
from .openat2 import *
from .page import *
from .pidfd import *
from .poll import *
from .posix_types import *
from .prctl import *
from .proc import *
from .random import *
from .resource import *
from .sched import *
from .sigcontext import *
from .siginfo import *
from .signal import *
from .signalfd import *
from .socket import *
from .stat import *
from .statfs import *
from .sysinfo import *
from .tcp import *
from .time import *
from .udp import *
from .uio import *
from .utsname import *
from .virtio import *
from .wait import *
from .x86 import *
