"""``python -m mailflow`` is the ``mailflow`` command."""

import sys

from mailflow.cli import main

sys.exit(main())
