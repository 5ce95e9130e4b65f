"""futex(2) operations and futex word bits: include/uapi/linux/futex.h.

Linux facts only, no behaviour.
"""

from struct import Struct as _Struct

FUTEX_WAIT = 0
FUTEX_WAKE = 1
FUTEX_FD = 2
FUTEX_REQUEUE = 3
FUTEX_CMP_REQUEUE = 4
FUTEX_WAKE_OP = 5
FUTEX_LOCK_PI = 6
FUTEX_UNLOCK_PI = 7
FUTEX_TRYLOCK_PI = 8
FUTEX_WAIT_BITSET = 9
FUTEX_WAKE_BITSET = 10
FUTEX_WAIT_REQUEUE_PI = 11
FUTEX_CMP_REQUEUE_PI = 12
FUTEX_LOCK_PI2 = 13
FUTEX_OP_NAMES = {
    FUTEX_WAIT: "FUTEX_WAIT", FUTEX_WAKE: "FUTEX_WAKE", FUTEX_FD: "FUTEX_FD",
    FUTEX_REQUEUE: "FUTEX_REQUEUE", FUTEX_CMP_REQUEUE: "FUTEX_CMP_REQUEUE",
    FUTEX_WAKE_OP: "FUTEX_WAKE_OP", FUTEX_LOCK_PI: "FUTEX_LOCK_PI",
    FUTEX_UNLOCK_PI: "FUTEX_UNLOCK_PI", FUTEX_TRYLOCK_PI: "FUTEX_TRYLOCK_PI",
    FUTEX_WAIT_BITSET: "FUTEX_WAIT_BITSET", FUTEX_WAKE_BITSET: "FUTEX_WAKE_BITSET",
    FUTEX_WAIT_REQUEUE_PI: "FUTEX_WAIT_REQUEUE_PI",
    FUTEX_CMP_REQUEUE_PI: "FUTEX_CMP_REQUEUE_PI", FUTEX_LOCK_PI2: "FUTEX_LOCK_PI2",
}
FUTEX_PRIVATE_FLAG = 128
FUTEX_CLOCK_REALTIME = 256
FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

# the futex word of a PI lock: owner tid and the waiters bit
FUTEX_TID_MASK = 0x3FFFFFFF
FUTEX_WAITERS = 0x80000000
FUTEX_OWNER_DIED = 0x40000000
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF

# FUTEX_WAKE_OP's encoded operation (the op and cmp fields)
FUTEX_OP_SET, FUTEX_OP_ADD, FUTEX_OP_OR, FUTEX_OP_ANDN, FUTEX_OP_XOR = 0, 1, 2, 3, 4
FUTEX_OP_OPARG_SHIFT = 8
FUTEX_OP_CMP_EQ, FUTEX_OP_CMP_NE, FUTEX_OP_CMP_LT = 0, 1, 2
FUTEX_OP_CMP_LE, FUTEX_OP_CMP_GT, FUTEX_OP_CMP_GE = 3, 4, 5

# futex2 flags (a futex_waitv entry's flags) and struct futex_waitv { __u64 val;
# __u64 uaddr; __u32 flags; __u32 __reserved; }
FUTEX2_SIZE_U8, FUTEX2_SIZE_U16, FUTEX2_SIZE_U32, FUTEX2_SIZE_U64 = 0x00, 0x01, 0x02, 0x03
FUTEX2_SIZE_MASK = 0x03
FUTEX2_NUMA = 0x04           # a node word follows the futex word
FUTEX2_MPOL = 0x08           # the node from the memory policy
FUTEX2_PRIVATE = FUTEX_PRIVATE_FLAG
FUTEX2_VALID_MASK = FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE
FUTEX_NO_NODE = 0xFFFFFFFF   # -1 in the node word: any node
FUTEX_WAITV = _Struct("<QQII")
FUTEX_WAITV_MAX = 128

# struct robust_list_head { struct robust_list *list; long futex_offset;
#                           struct robust_list *list_op_pending; }
ROBUST_LIST_HEAD_SIZE = 24
ROBUST_LIST_LIMIT = 2048          # entries walked at most (a loop in the list ends there)
