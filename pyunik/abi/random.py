"""getrandom(2) flags: include/uapi/linux/random.h. Linux facts only."""

GRND_NONBLOCK = 0x1
GRND_RANDOM = 0x2
GRND_INSECURE = 0x4
# drivers/char/random.c: one getrandom(2) returns at most this many bytes (32 MiB - 1)
GETRANDOM_MAX = 0x1FFFFFF
GRND_FLAGS = [("GRND_NONBLOCK", GRND_NONBLOCK), ("GRND_RANDOM", GRND_RANDOM),
              ("GRND_INSECURE", GRND_INSECURE)]
