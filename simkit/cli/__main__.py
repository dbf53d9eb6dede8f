"""`python -m simkit.cli`: the `simkit` command."""

import sys

from simkit.cli import main

sys.exit(main())
