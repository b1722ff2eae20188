"""``python -m thermopot.cli``: the same as the ``thermopot`` command."""

import sys

from .main import main

sys.exit(main())
