"""``python -m scoring``: the scoring command line (see `scoring.cli` and docs/scoring.md)."""

import sys

from scoring.cli import main

if __name__ == "__main__":
    sys.exit(main())
