"""``python -m instructor.grading``: the same as ``python -m instructor grade``."""

import sys

from instructor.grading.cli import main

if __name__ == "__main__":
    sys.exit(main())
