"""Observing the guest: strace-style lines and crash reports.

Layer: trace, beside the kernel (which calls it). Reads mm/ and abi/; changes
nothing.
"""
