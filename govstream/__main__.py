import sys

from govstream.cli import main

sys.exit(main())
