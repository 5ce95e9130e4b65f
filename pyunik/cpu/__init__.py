"""The CPU engine (the only package that calls unicorn).

Layer: cpu, the bottom: engine.py (Unicorn), libunicorn.py (the library through
ctypes), paging.py (page tables), cpuid.py (the CPU model). Calls unicorn and the
host's mmap, nothing of pyunik above it.
"""
