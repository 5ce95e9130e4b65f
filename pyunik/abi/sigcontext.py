"""The x86-64 signal frame: struct sigcontext, the FPU state after it, ucontext and
rt_sigframe.

arch/x86/include/uapi/asm/sigcontext.h (struct sigcontext, struct _fpstate_64,
struct _fpx_sw_bytes, struct _header, FP_XSTATE_MAGIC1/2), arch/x86/include/uapi/
asm/ucontext.h (UC_* flags), include/uapi/asm-generic/ucontext.h (struct ucontext),
arch/x86/include/asm/sigframe.h (struct rt_sigframe), arch/x86/include/asm/fpu/
types.h (xfeature bits) and arch/x86/kernel/signal.c (FIX_EFLAGS, the red zone,
frame alignment). Every offset below was checked with offsetof against the
installed uapi headers. Linux facts only, no behaviour.
"""

import struct

# struct sigcontext (64-bit, 256 bytes): the eighteen 64-bit registers in this
# order, cs/gs/fs/ss (16 bits each; "ss" was __pad0 before Linux 4.6), err, trapno,
# oldmask, cr2, the fpstate pointer, reserved1[8].
SIGCONTEXT_REGS = ("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi",
                   "rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "rflags")
SIGCONTEXT = struct.Struct("<18Q4H5Q64x")
SIGCONTEXT_SIZE = 256

# struct ucontext (304 bytes): uc_flags [0], uc_link [8], uc_stack [16] (a stack_t),
# uc_mcontext [40] (the sigcontext), uc_sigmask [296] (the kernel's 8-byte sigset).
UCONTEXT_HEAD = struct.Struct("<QQQi4xQ")                 # flags, link, stack_t
UCONTEXT_SS_FLAGS = 24       # uc_stack.ss_flags
UCONTEXT_MCONTEXT = 40
UCONTEXT_SIGMASK = 296
UCONTEXT_SIZE = 304
# Every field of struct ucontext but sigcontext's eighteen registers (skipped): flags,
# link, stack_t, cs, gs, fs, ss, err, trapno, oldmask, cr2, fpstate, uc_sigmask.
UCONTEXT_BESIDE_REGS = struct.Struct("<QQQi4xQ144x4H5Q64xQ")
UC_FP_XSTATE = 0x1           # the fpstate is an xsave area with the magic numbers
UC_SIGCONTEXT_SS = 0x2       # sigcontext.ss is saved (and restored)
UC_STRICT_RESTORE_SS = 0x4   # restore ss exactly; else an invalid one becomes __USER_DS

# struct rt_sigframe (x86-64): pretcode (the restorer: the handler's return
# address) [0], uc [8], info [312]; the fpstate follows, 64-byte aligned, above it.
RT_SIGFRAME_UC = 8
RT_SIGFRAME_INFO = 312
RT_SIGFRAME_SIZE = 440
# The frame's bytes around sigcontext's registers: pretcode and the ucontext's head
# (flags, link, stack_t) before them; after them cs, gs, fs, ss, err, trapno,
# oldmask, cr2, fpstate, reserved1[8] and uc_sigmask.
RT_SIGFRAME_HEAD = struct.Struct("<QQQQi4xQ")
RT_SIGFRAME_AFTER_REGS = struct.Struct("<4H5Q64xQ")

# struct _fpstate_64: the fxsave image (512 bytes). cwd, swd, twd (the abridged
# tag byte and a reserved byte), fop, rip, rdp, mxcsr, mxcsr_mask [0..32]; st_space
# [32] (8 x 16 bytes, ST(0) first); xmm_space [160] (16 x 16); reserved2 [416];
# sw_reserved [464] (struct _fpx_sw_bytes, which fxsave leaves alone).
FPSTATE_HEAD = struct.Struct("<HHBxHQQII")
# Where fxsave puts each register of the head (Intel SDM vol. 1, 10.5.1, the 64-bit
# format); the tag byte is the abridged tag word (bit i: physical register i in use).
FPSTATE_FIELDS = {"fcw": 0, "fsw": 2, "fop": 6, "fip": 8, "fdp": 16, "mxcsr": 24}
FPSTATE_FTW = 4
FPSTATE_MXCSR = 24
FPSTATE_MXCSR_MASK = 28
FPSTATE_ST = 32
FPSTATE_XMM = 160
FPSTATE_RESERVED2 = 416      # the registers end here; reserved to sw_reserved
FPSTATE_SW_RESERVED = 464
FXSAVE_SIZE = 512
# struct _fpx_sw_bytes: magic1, extended_size, xfeatures, xstate_size, padding[7]
FPX_SW_BYTES = struct.Struct("<IIQI28x")
FP_XSTATE_MAGIC1 = 0x46505853
FP_XSTATE_MAGIC2 = 0x46505845
FP_XSTATE_MAGIC2_SIZE = 4
# struct _header (the xsave header, 64 bytes, right after the fxsave image):
# xfeatures, then reserved (xcomp_bv, which a standard-format xsave leaves 0).
XSTATE_HEADER = struct.Struct("<QQ48x")
XSTATE_HEADER_SIZE = 64
XSTATE_YMMH = 576            # struct _ymmh_state: the upper halves of YMM0-15
XFEATURE_MASK_FP = 1 << 0
XFEATURE_MASK_SSE = 1 << 1
XFEATURE_MASK_YMM = 1 << 2

# arch/x86/include/asm/sighandling.h (FIX_EFLAGS) and arch/x86/kernel/signal.c
FIX_EFLAGS = 0x50DD5         # AC|RF|OF|DF|TF|SF|ZF|AF|PF|CF: what rt_sigreturn takes
SIGFRAME_RED_ZONE = 128      # the System V ABI's red zone below rsp, skipped
FRAME_ALIGNMENT = 16         # rsp + 8 is 16-byte aligned at handler entry
FPSTATE_ALIGNMENT = 64       # the xsave area's alignment
# Where get_sigframe puts a frame's fpstate when it is placed with it (64-byte aligned,
# the rt_sigframe below it 16-byte aligned less 8): always this far above the frame,
# whatever the stack pointer, so the two make one image of this size plus the
# fpstate's, with a 16-byte gap between them that Linux leaves unwritten.
RT_SIGFRAME_FPSTATE = -((-RT_SIGFRAME_SIZE & -FRAME_ALIGNMENT) - 8)      # 456


# Two partial views of a frame placed with its fpstate (RT_SIGFRAME_FPSTATE), for the
# case with nothing special about it (pyunik's kernel/sigframe.py, shortest path):
# - its bytes up to the siginfo with these fields only, every other one zero:
#   pretcode [0], uc_flags [8], uc_stack.ss_flags [32] (an int), r11 [72], rax [152],
#   rcx [160], rip [176], oldmask [216], uc_sigmask [304];
RT_SIGFRAME_SHORT_HEAD = struct.Struct("<QQ16xI36xQ72xQQ8xQ32xQ80xQ")          # 312 bytes
# - from its ucontext to the end of the xsave area: uc_stack's ss_sp [16], ss_flags
#   [24] and ss_size [32], rsp [160], rip [168], rflags [176], the selectors cs, gs, fs
#   and ss [184] as one u64, the fpstate pointer [224], uc_sigmask [296], and of the
#   fxsave image at [448] the abridged tag byte, fop and MXCSR, then every byte from
#   sw_reserved on.
UCONTEXT_WITH_FPSTATE = struct.Struct("<16xQi4xQ120xQQQQ32xQ64xQ148xB1xH16xI436x116s")
