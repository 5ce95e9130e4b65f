"""Scheduling policies: include/uapi/linux/sched.h. Linux facts only."""

SCHED_OTHER = 0
