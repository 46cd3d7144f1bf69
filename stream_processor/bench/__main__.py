"""``python -m stream_processor.bench`` (see ``cli``)."""

from stream_processor.bench.cli import main

raise SystemExit(main())
