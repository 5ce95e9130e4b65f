"""Device numbers as user space sees them: include/linux/kdev_t.h.

new_encode_dev is what stat(2) puts in st_dev/st_rdev; new_decode_dev splits it again
(glibc's gnu_dev_major/minor read the same layout: minor bits 0-7 and 20-31, major
bits 8-19).
"""


def new_encode_dev(major: int, minor: int) -> int:
    """include/linux/kdev_t.h new_encode_dev."""
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


def new_decode_dev(dev: int) -> tuple[int, int]:
    """include/linux/kdev_t.h new_decode_dev: (major, minor)."""
    return (dev & 0xFFF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
