"""inotify's ABI: include/uapi/linux/inotify.h and include/linux/inotify.h."""

import struct

from . import fcntl as _fcntl

IN_ACCESS = 0x00000001          # file was read
IN_MODIFY = 0x00000002          # file was written
IN_ATTRIB = 0x00000004          # metadata changed (mode, owner, times, link count)
IN_CLOSE_WRITE = 0x00000008     # a file opened for writing was closed
IN_CLOSE_NOWRITE = 0x00000010   # a file not opened for writing was closed
IN_OPEN = 0x00000020            # file was opened
IN_MOVED_FROM = 0x00000040      # a name moved out of the directory
IN_MOVED_TO = 0x00000080        # a name moved into the directory
IN_CREATE = 0x00000100          # a name was made in the directory
IN_DELETE = 0x00000200          # a name was removed from the directory
IN_DELETE_SELF = 0x00000400     # the watched object itself was deleted
IN_MOVE_SELF = 0x00000800       # the watched object itself was moved
IN_UNMOUNT = 0x00002000         # its filesystem was unmounted (never, here)
IN_Q_OVERFLOW = 0x00004000      # events were lost (wd -1)
IN_IGNORED = 0x00008000         # the watch was removed
IN_ONLYDIR = 0x01000000         # add_watch: only if the path is a directory
IN_DONT_FOLLOW = 0x02000000     # add_watch: do not follow a final symlink
IN_EXCL_UNLINK = 0x04000000     # no events of open files once unlinked
IN_MASK_CREATE = 0x10000000     # add_watch: EEXIST if the inode is watched already
IN_MASK_ADD = 0x20000000        # add_watch: add to the mask instead of replacing it
IN_ISDIR = 0x40000000           # the event's object is a directory
IN_ONESHOT = 0x80000000         # remove the watch after one event
IN_ALL_EVENTS = 0x00000FFF
# include/linux/fsnotify_backend.h: FS_RENAME, the rename seen from the old directory
# (inotify has no bit for it; dnotify's DN_RENAME is it)
FS_RENAME = 0x10000000
IN_CLOEXEC, IN_NONBLOCK = _fcntl.O_CLOEXEC, _fcntl.O_NONBLOCK
# include/linux/inotify.h: every bit inotify_add_watch accepts
ALL_INOTIFY_BITS = (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR
                    | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD
                    | IN_ISDIR | IN_ONESHOT)
# /proc/sys/fs/inotify defaults. max_user_watches is Linux's default for 2 GiB of memory
# (pyunik's default guest memory): 1% of it over INOTIFY_WATCH_COST, about 1.3 KiB.
MAX_QUEUED_EVENTS = 16384
MAX_USER_INSTANCES = 128
MAX_USER_WATCHES = 16384
INOTIFY_IOC_SETNEXTWD = 0x40044900      # _IOW('I', 0, __s32): where wd allocation resumes
# For strace: mask bits in the order strace prints them.
MASK_NAMES = [(IN_ACCESS, "IN_ACCESS"), (IN_MODIFY, "IN_MODIFY"), (IN_ATTRIB, "IN_ATTRIB"),
              (IN_CLOSE_WRITE, "IN_CLOSE_WRITE"), (IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"),
              (IN_OPEN, "IN_OPEN"), (IN_MOVED_FROM, "IN_MOVED_FROM"),
              (IN_MOVED_TO, "IN_MOVED_TO"), (IN_CREATE, "IN_CREATE"),
              (IN_DELETE, "IN_DELETE"), (IN_DELETE_SELF, "IN_DELETE_SELF"),
              (IN_MOVE_SELF, "IN_MOVE_SELF"), (IN_UNMOUNT, "IN_UNMOUNT"),
              (IN_Q_OVERFLOW, "IN_Q_OVERFLOW"), (IN_IGNORED, "IN_IGNORED"),
              (IN_ONLYDIR, "IN_ONLYDIR"), (IN_DONT_FOLLOW, "IN_DONT_FOLLOW"),
              (IN_EXCL_UNLINK, "IN_EXCL_UNLINK"), (IN_MASK_CREATE, "IN_MASK_CREATE"),
              (IN_MASK_ADD, "IN_MASK_ADD"), (IN_ISDIR, "IN_ISDIR"), (IN_ONESHOT, "IN_ONESHOT")]
INIT_FLAG_NAMES = [(IN_NONBLOCK, "IN_NONBLOCK"), (IN_CLOEXEC, "IN_CLOEXEC")]

# struct inotify_event {int wd; uint32_t mask, cookie, len; char name[len];}: the name is
# NUL-terminated and NUL-padded to a multiple of 16 bytes, len counting the padding.
EVENT = struct.Struct("<iIII")
