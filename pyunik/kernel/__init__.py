"""The kernel: processes, threads, the fd table, and the system calls."""
