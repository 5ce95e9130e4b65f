"""Files: the VFS and the filesystems, open file descriptions and the objects behind them.

Layer: fs, under the kernel. The VFS core (vfs.py: mounts and the path walk; inode.py;
file.py and openfile.py: open file descriptions) apart from each filesystem (ramfs,
hostfs, overlay, imagefs, devfs, proc/, sysfs on pseudo.py), and pipes, locks, seals,
inotify and eventfd. Calls mm/ (iov_iter, usermem) and abi/; never kernel.syscalls.
"""
