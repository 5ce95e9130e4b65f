"""Loading programs: ELF images and the initial stack.

Layer: loader, under the kernel. Calls mm/ (to map) and fs/imagefs.py (images);
never the kernel.
"""
