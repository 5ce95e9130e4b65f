"""System call handlers (glue) and the table that names them all.

Layer: kernel, the syscall glue. Handlers decode, call into fs/, mm/ and kernel/,
and encode; table.py names them all.
"""
