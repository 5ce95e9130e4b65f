"""The CPU engine (the only package that imports unicorn).

Layer: cpu, the bottom: engine.py (Unicorn), paging.py (page tables), cpuid.py
(the CPU model). Calls unicorn and the host's mmap, nothing of pyunik above it.
"""
