"""python -m pyunik: the same as the `pyunik` command.

Layer: the top; calls cli.main.
"""

import sys

from .cli import main

sys.exit(main())
