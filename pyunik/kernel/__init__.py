"""The kernel: processes, threads, the fd table, and the system calls.

Layer: kernel, under cli/api. Calls fs/, mm/, loader/, cpu/ and trace/; nothing
below it imports it.
"""
