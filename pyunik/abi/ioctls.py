"""ioctl(2) requests pyunik answers, and the terminal structs they carry.

include/uapi/asm-generic/ioctls.h and include/uapi/asm-generic/termbits.h.
Linux facts only, no behaviour.
"""

import struct

TCGETS = 0x5401
TCSETS = 0x5402
TCSETSW = 0x5403
TCSETSF = 0x5404
TIOCGPGRP = 0x540F
TIOCSPGRP = 0x5410
TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414
FIONREAD = 0x541B
FIONBIO = 0x5421
TIOCGSID = 0x5429     # the session of the caller's controlling terminal
FIONCLEX = 0x5450
FIOCLEX = 0x5451
IOCTL_NAMES = {TCGETS: "TCGETS", TCSETS: "TCSETS", TCSETSW: "TCSETSW", TCSETSF: "TCSETSF",
               TIOCGPGRP: "TIOCGPGRP", TIOCSPGRP: "TIOCSPGRP", TIOCGWINSZ: "TIOCGWINSZ",
               TIOCSWINSZ: "TIOCSWINSZ", FIONREAD: "FIONREAD", FIONBIO: "FIONBIO",
               TIOCGSID: "TIOCGSID", FIONCLEX: "FIONCLEX", FIOCLEX: "FIOCLEX"}

# struct winsize; struct termios (the kernel's, without speeds) is 36 bytes
WINSIZE = struct.Struct("<HHHH")
TERMIOS_SIZE = 36
