"""``python -m stream_processor``: the same command line as the ``stream-processor`` script."""

import sys

from stream_processor.cli import main

sys.exit(main())
