"""System V IPC: flags, commands, limits and the structs of shmctl, semctl, msgctl.

include/uapi/linux/ipc.h, shm.h, sem.h, msg.h, include/uapi/asm-generic/ipcbuf.h,
arch/x86/include/uapi/asm/shmbuf.h, sembuf.h and asm-generic/msgbuf.h (the 64-bit
layouts x86-64 uses). Linux facts only, no behaviour.
"""

import struct

# ---- ipc.h ------------------------------------------------------------------------------

IPC_PRIVATE = 0
IPC_CREAT = 0o1000        # create if key is nonexistent
IPC_EXCL = 0o2000         # fail if key exists
IPC_NOWAIT = 0o4000       # return error on wait
IPC_RMID = 0              # remove resource
IPC_SET = 1               # set ipc_perm options
IPC_STAT = 2              # get ipc_perm options
IPC_INFO = 3              # see ipcs
IPC_64 = 0x0100           # glibc's version flag; x86-64 Linux does not strip it

# ---- shm.h ------------------------------------------------------------------------------

SHM_RDONLY = 0o10000      # read-only access
SHM_RND = 0o20000         # round attach address to SHMLBA boundary
SHM_REMAP = 0o40000       # take-over region on attach
SHM_EXEC = 0o100000       # execution access
SHM_LOCK = 11
SHM_UNLOCK = 12
SHM_STAT = 13
SHM_INFO = 14
SHM_STAT_ANY = 15
SHM_DEST = 0o1000         # mode bit: segment will be destroyed on last detach
SHM_LOCKED = 0o2000       # mode bit: segment will not be swapped
SHMLBA = 4096             # x86: the page size
SHMMIN = 1
SHMMNI = 4096
SHMMAX = (1 << 64) - 1 - (1 << 24)
SHMALL = SHMMAX
SHMSEG = SHMMNI

# ---- sem.h ------------------------------------------------------------------------------

SEM_UNDO = 0x1000         # undo the operation on exit
GETPID = 11
GETVAL = 12
GETALL = 13
GETNCNT = 14
GETZCNT = 15
SETVAL = 16
SETALL = 17
SEM_STAT = 18
SEM_INFO = 19
SEM_STAT_ANY = 20
SEMMNI = 32000            # <= IPCMNI: max # of semaphore identifiers
SEMMSL = 32000            # <= INT_MAX: max num of semaphores per id
SEMMNS = SEMMNI * SEMMSL  # max # of semaphores in system
SEMOPM = 500              # max num of ops per semop call
SEMVMX = 32767            # semaphore maximum value
SEMAEM = SEMVMX           # adjust on exit max value
SEMMNU = SEMMNS
SEMUME = SEMOPM
SEMUSZ = 20

# ---- msg.h ------------------------------------------------------------------------------

MSG_STAT = 11
MSG_INFO = 12
MSG_STAT_ANY = 13
MSG_NOERROR = 0o10000     # no error if message is too big
MSG_EXCEPT = 0o20000      # recv any msg except of specified type
MSG_COPY = 0o40000        # copy (not remove) all queue messages
MSGMNI = 32000            # <= IPCMNI: max # of msg queue identifiers
MSGMAX = 8192             # <= INT_MAX: max size of message (bytes)
MSGMNB = 16384            # <= INT_MAX: default max size of a message queue
MSGPOOL = MSGMNI * MSGMNB // 1024
MSGTQL = MSGMNB
MSGMAP = MSGMNB
MSGSSZ = 16
MSGSEG = 0xFFFF

# ---- access the calls ask for (include/linux/stat.h) ------------------------------------

S_IRUGO = 0o444
S_IWUGO = 0o222
S_IXUGO = 0o111
LONG_MIN = -(1 << 63)     # msgrcv's msgtyp of LONG_MIN means LONG_MAX
LONG_MAX = (1 << 63) - 1

# ---- ids (ipc/util.h) -------------------------------------------------------------------

IPCMNI_SHIFT = 15
IPCMNI = 1 << IPCMNI_SHIFT
IPCID_SEQ_MAX = (1 << 31) // IPCMNI - 1

# ---- structs ----------------------------------------------------------------------------

# struct ipc64_perm: key, uid, gid, cuid, cgid, mode (a 32-bit __kernel_mode_t, so no
# __pad1), seq, __pad2, then two unsigned longs (aligned: 4 bytes of padding first).
IPC64_PERM = "iIIIIIHH4xQQ"
# struct shmid64_ds: shm_perm, shm_segsz, shm_atime, shm_dtime, shm_ctime, shm_cpid,
# shm_lpid, shm_nattch, __unused4, __unused5
SHMID64_DS = struct.Struct("<" + IPC64_PERM + "QqqqiiQQQ")
# struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall, __unused1..4
SHMINFO64 = struct.Struct("<9Q")
# struct shm_info: used_ids, shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes
SHM_INFO_STRUCT = struct.Struct("<i4xQQQQQ")
# struct semid64_ds: sem_perm, sem_otime, __unused1, sem_ctime, __unused2, sem_nsems,
# __unused3, __unused4
SEMID64_DS = struct.Struct("<" + IPC64_PERM + "qQqQQQQ")
# struct seminfo: semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz,
# semvmx, semaem (ten ints)
SEMINFO = struct.Struct("<10i")
# struct sembuf: sem_num (unsigned short), sem_op, sem_flg (shorts)
SEMBUF = struct.Struct("<Hhh")
# semctl's GETALL and SETALL array: one unsigned short per semaphore
SEMVAL = struct.Struct("<H")
# struct msqid64_ds: msg_perm, msg_stime, msg_rtime, msg_ctime, msg_cbytes, msg_qnum,
# msg_qbytes, msg_lspid, msg_lrpid, __unused4, __unused5
MSQID64_DS = struct.Struct("<" + IPC64_PERM + "qqqQQQiiQQ")
# struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql (ints),
# msgseg (unsigned short)
MSGINFO = struct.Struct("<7iH2x")
# struct msgbuf: mtype (long), then mtext
MSG_TYPE = struct.Struct("<q")
# struct ipc64_perm's fields IPC_SET reads: uid, gid, mode (the rest is ignored)
IPC64_PERM_SIZE = struct.calcsize("<" + IPC64_PERM)
