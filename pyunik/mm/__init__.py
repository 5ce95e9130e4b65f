"""Guest memory: the address space (VMAs), host memory behind it, usermem helpers.

Layer: mm, under the kernel and beside fs/. Calls cpu/ (the engine) and the host's
mmap; never the kernel.
"""
