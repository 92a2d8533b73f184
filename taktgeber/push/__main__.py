"""`python -m taktgeber.push …` = `taktgeber push …`."""

import sys

from taktgeber.push.command import cli_main

sys.exit(cli_main())
