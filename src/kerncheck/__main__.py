import sys

from kerncheck.cli import main

sys.exit(main())
