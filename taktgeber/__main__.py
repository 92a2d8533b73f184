import sys

from taktgeber.cli import main

sys.exit(main())
