"""Signals: default actions, and what can be delivered today.

Linux's signal(7) default actions are kept here. A signal sent to a process
whose disposition is SIG_DFL takes its default action now: termination (with a core
flag for the core-dumping signals) ends the process, the rest are ignored (no job
control in a unikernel, so the stop signals are ignored too). SIG_IGN discards it.
A signal that would run a guest handler, or that is blocked, cannot be delivered
yet (no signal frames, no pending set): `send` reports UNDELIVERABLE and the caller
says so honestly (kill returns ENOSYS).
"""

from __future__ import annotations

from ..abi import linux as L
from .process import ProcessExit

DEFAULT_IGNORE = {L.SIGCHLD, L.SIGURG, L.SIGWINCH, L.SIGCONT, L.SIGSTOP, L.SIGTSTP,
                  L.SIGTTIN, L.SIGTTOU}
DEFAULT_CORE = {L.SIGQUIT, L.SIGILL, L.SIGTRAP, L.SIGABRT, L.SIGBUS, L.SIGFPE, L.SIGSEGV,
                L.SIGXCPU, L.SIGXFSZ, L.SIGSYS}
UNBLOCKABLE = (1 << (L.SIGKILL - 1)) | (1 << (L.SIGSTOP - 1))

DELIVERED, IGNORED, UNDELIVERABLE = "delivered", "ignored", "undeliverable"


def send(t, sig: int) -> str:
    """Send sig to the process of thread t. May raise ProcessExit (default action)."""
    if sig == 0:
        return DELIVERED
    action = t.process.sighand.actions[sig]
    if sig != L.SIGKILL:
        if action.handler == L.SIG_IGN:
            return IGNORED
        if t.sigmask & (1 << (sig - 1)) or action.handler != L.SIG_DFL:
            return UNDELIVERABLE
        if sig in DEFAULT_IGNORE:
            return IGNORED
    raise ProcessExit(0, signal=sig, core=sig in DEFAULT_CORE)
