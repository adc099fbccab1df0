"""Disk health: SMART, kernel-log and filesystem evidence joined per physical disk; backup placement."""
