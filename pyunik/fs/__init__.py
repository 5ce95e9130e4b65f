"""Files: open file descriptions and the objects behind them.

For now: host streams (the guest's stdio) and pipes. The VFS (mounts, path walk,
inodes, filesystems) comes here too, apart from each filesystem.
"""
