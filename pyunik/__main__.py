"""python -m pyunik: the same as the `pyunik` command.

Layer: the top; calls cli.main.
"""

import gc
import sys

gc.disable()        # until the guest starts (cli.cmd_run): imports make no garbage cycles

from .cli import main  # noqa: E402

sys.exit(main())
