"""Process file descriptors: include/uapi/linux/pidfd.h. Linux facts only."""

# pidfd_send_signal(2)'s flags: whom the signal is for (at most one)
PIDFD_SIGNAL_THREAD = 1 << 0
PIDFD_SIGNAL_THREAD_GROUP = 1 << 1
PIDFD_SIGNAL_PROCESS_GROUP = 1 << 2
