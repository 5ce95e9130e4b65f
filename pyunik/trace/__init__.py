"""Observing the guest: strace-style lines and crash reports."""
