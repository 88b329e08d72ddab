"""``python -m genbench``: the command line (see ``genbench.cli``)."""

import sys

from genbench.cli import main

sys.exit(main())
