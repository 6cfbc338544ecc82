"""``python -m trygghetskarta`` is the same program as ``trygghetskarta``."""

import sys

from trygghetskarta.cli import main

sys.exit(main())
