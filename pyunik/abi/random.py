"""getrandom(2) flags: include/uapi/linux/random.h. Linux facts only."""

GRND_NONBLOCK = 0x1
GRND_RANDOM = 0x2
GRND_INSECURE = 0x4
GRND_FLAGS = [("GRND_NONBLOCK", GRND_NONBLOCK), ("GRND_RANDOM", GRND_RANDOM),
              ("GRND_INSECURE", GRND_INSECURE)]
