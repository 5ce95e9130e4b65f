"""Linux facts: numbers, flags and struct layouts, with no behaviour.

Every module here mirrors a Linux header (named in a comment next to each group),
so that the kernel and the tracer say the same thing about the ABI.
"""
