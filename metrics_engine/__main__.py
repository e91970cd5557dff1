"""``python -m metrics_engine``: the same command as ``metrics-engine``."""

from metrics_engine._cli import main

raise SystemExit(main())
