"""`python -m arkive_stack [args]` is `arkive up [args]`."""

import sys

from .up import main

sys.exit(main())
