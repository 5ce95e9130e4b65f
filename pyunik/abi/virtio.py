"""virtio 1.x: include/uapi/linux/virtio_ring.h, virtio_config.h, virtio_net.h and
virtio_ids.h, as the virtio 1.1 specification (sections 2.1, 2.6, 5.1) lays them out.
Linux facts only. All fields are little-endian (a virtio 1.x device's byte order).
"""

import struct

# virtio_ids.h
VIRTIO_ID_NET = 1                     # device type of a network card

# virtio_config.h: the device status byte, written by the driver step by step (3.1.1)
VIRTIO_CONFIG_S_ACKNOWLEDGE = 1       # the guest has noticed the device
VIRTIO_CONFIG_S_DRIVER = 2            # the guest knows how to drive it
VIRTIO_CONFIG_S_DRIVER_OK = 4         # the driver is set up and ready to drive the device
VIRTIO_CONFIG_S_FEATURES_OK = 8       # feature negotiation is complete
VIRTIO_CONFIG_S_NEEDS_RESET = 0x40    # the device hit an error it cannot recover from
VIRTIO_CONFIG_S_FAILED = 0x80         # the driver gave up on the device
VIRTIO_STATUS_NAMES = {VIRTIO_CONFIG_S_ACKNOWLEDGE: "ACKNOWLEDGE", VIRTIO_CONFIG_S_DRIVER: "DRIVER",
                       VIRTIO_CONFIG_S_DRIVER_OK: "DRIVER_OK",
                       VIRTIO_CONFIG_S_FEATURES_OK: "FEATURES_OK",
                       VIRTIO_CONFIG_S_NEEDS_RESET: "NEEDS_RESET", VIRTIO_CONFIG_S_FAILED: "FAILED"}

# virtio_config.h / virtio_ring.h: device-independent feature bits
VIRTIO_RING_F_INDIRECT_DESC = 28      # the driver may hand a table of descriptors in one
VIRTIO_RING_F_EVENT_IDX = 29          # used_event/avail_event replace the ring flags
VIRTIO_F_VERSION_1 = 32               # a virtio 1.x device (little-endian, no legacy layout)

# virtio_net.h: network feature bits
VIRTIO_NET_F_CSUM = 0                 # the device takes packets with a partial checksum
VIRTIO_NET_F_GUEST_CSUM = 1           # the driver takes packets with a partial checksum
VIRTIO_NET_F_MTU = 3                  # the config space's mtu field is the largest MTU
VIRTIO_NET_F_GUEST_TSO4 = 7           # the driver takes TCPv4 segmentation offload packets
VIRTIO_NET_F_HOST_TSO4 = 11           # the device takes TCPv4 segmentation offload packets
VIRTIO_NET_F_MAC = 5                  # the device has a MAC address in its config space
VIRTIO_NET_F_MRG_RXBUF = 15           # a received packet may span several rx buffers
VIRTIO_NET_F_STATUS = 16              # the config space's status field is valid
VIRTIO_NET_F_CTRL_VQ = 17             # a control queue (pyunik's card has none)
VIRTIO_FEATURE_NAMES = {VIRTIO_RING_F_INDIRECT_DESC: "INDIRECT_DESC",
                        VIRTIO_RING_F_EVENT_IDX: "EVENT_IDX", VIRTIO_F_VERSION_1: "VERSION_1",
                        VIRTIO_NET_F_CSUM: "CSUM", VIRTIO_NET_F_GUEST_CSUM: "GUEST_CSUM",
                        VIRTIO_NET_F_MTU: "MTU", VIRTIO_NET_F_MAC: "MAC",
                        VIRTIO_NET_F_GUEST_TSO4: "GUEST_TSO4",
                        VIRTIO_NET_F_HOST_TSO4: "HOST_TSO4", VIRTIO_NET_F_CTRL_VQ: "CTRL_VQ",
                        VIRTIO_NET_F_MRG_RXBUF: "MRG_RXBUF", VIRTIO_NET_F_STATUS: "STATUS"}

# virtio_ring.h: struct vring_desc flags
VRING_DESC_F_NEXT = 1                 # the chain goes on in the `next` field
VRING_DESC_F_WRITE = 2                # the buffer is write-only for the device (else read-only)
VRING_DESC_F_INDIRECT = 4             # the buffer holds a table of descriptors
VRING_DESC_FLAG_NAMES = {VRING_DESC_F_NEXT: "N", VRING_DESC_F_WRITE: "W",
                         VRING_DESC_F_INDIRECT: "I"}
# struct vring_avail flags: the driver asks not to be interrupted (without EVENT_IDX)
VRING_AVAIL_F_NO_INTERRUPT = 1
# struct vring_used flags: the device asks not to be notified (without EVENT_IDX)
VRING_USED_F_NO_NOTIFY = 1
VIRTQUEUE_MAX_SIZE = 32768            # Queue Size: a power of 2, at most 32768 (2.6)

# struct vring_desc {__le64 addr; __le32 len; __le16 flags; __le16 next;}
VRING_DESC = struct.Struct("<QIHH")
# struct vring_avail {__le16 flags; __le16 idx; __le16 ring[]; (__le16 used_event)}
VRING_AVAIL_HEADER = struct.Struct("<HH")
VRING_RING_ENTRY = struct.Struct("<H")     # avail ring entry; used_event; avail_event
# struct vring_used {__le16 flags; __le16 idx; struct vring_used_elem ring[]; (avail_event)}
VRING_USED_HEADER = VRING_AVAIL_HEADER
# struct vring_used_elem {__le32 id; __le32 len;}
VRING_USED_ELEM = struct.Struct("<II")
VRING_DESC_ALIGN = 16                 # alignment of the descriptor table (2.6)
VRING_AVAIL_ALIGN = 2
VRING_USED_ALIGN = 4

# virtio_net.h: struct virtio_net_hdr_v1 (12 bytes with VERSION_1 or MRG_RXBUF)
# {u8 flags; u8 gso_type; le16 hdr_len; le16 gso_size; le16 csum_start;
#  le16 csum_offset; le16 num_buffers;}
VIRTIO_NET_HDR = struct.Struct("<BBHHHHH")
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1       # the checksum at csum_start+csum_offset is partial
VIRTIO_NET_HDR_F_DATA_VALID = 2       # the device checked the checksum
VIRTIO_NET_HDR_GSO_NONE = 0           # not a segmentation offload packet
VIRTIO_NET_HDR_GSO_TCPV4 = 1          # TCPv4 to be cut into gso_size pieces (TSO)
# struct virtio_net_config {u8 mac[6]; le16 status; le16 max_virtqueue_pairs; le16 mtu;}
VIRTIO_NET_CONFIG = struct.Struct("<6sHHH")
VIRTIO_NET_S_LINK_UP = 1              # the config status: link is up
VIRTIO_NET_RX_QUEUE = 0               # receiveq1 (5.1.2)
VIRTIO_NET_TX_QUEUE = 1               # transmitq1
