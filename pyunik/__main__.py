"""python -m pyunik: the same as the `pyunik` command."""

import sys

from .cli import main

sys.exit(main())
