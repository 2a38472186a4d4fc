"""Run the planner from the command line: a plan request on stdin, the plan on stdout."""

import sys

from . import main

sys.exit(main())
