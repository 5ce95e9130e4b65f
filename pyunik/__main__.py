"""python -m pyunik: the same as the `pyunik` command.

Layer: the top; calls cli.entry.
"""

import gc

gc.disable()        # until the guest starts (cli.cmd_run): imports make no garbage cycles

from .cli import entry  # noqa: E402

entry()
