"""Guest memory: the address space (VMAs), host memory behind it, usermem helpers."""
