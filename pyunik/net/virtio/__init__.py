"""The virtio-net device and its split virtqueues, laid out in guest memory as the
virtio 1.1 specification says: virtqueue.py (the rings, both sides), memory.py (what
the rings live in), device.py (the network card), driver.py (the stack's side of it).

Layer: net. Calls mm/ objects (or any object with read and write) only.
"""
