"""`python -m arkive`: the command line, as the `arkive` script runs it."""

import sys

from arkive.cli import main

sys.exit(main())
