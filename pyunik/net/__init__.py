"""The network: the virtio-net device and its virtqueues, pyunik's own TCP/IP stack
(Ethernet, ARP, IPv4, ICMP, UDP, TCP), the socket layer, loopback, and the backends
behind the device (user-mode NAT with host forwards, a hub between guests, pcap).

Each piece is sans-IO and instance-based: a stack is an object, several live in one
Python process (a guest's and the user-mode NAT's), and time comes in as an argument.

Layer: net, under the kernel and beside fs/ and mm/. Calls fs/ (a socket is an open
file), mm/ (the virtqueues live in guest memory), pyunik/wait.py; never the kernel.
"""
