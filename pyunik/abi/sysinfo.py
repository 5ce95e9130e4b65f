"""sysinfo(2)'s struct sysinfo: include/uapi/linux/sysinfo.h. Linux facts only."""

import struct

# struct sysinfo (x86-64), 112 bytes: uptime, loads[3], totalram, freeram, sharedram,
# bufferram, totalswap, freeswap, procs, pad, totalhigh, freehigh, mem_unit, _f
SYSINFO = struct.Struct("<q3QQQQQQQHxxxxxxQQI4x")
