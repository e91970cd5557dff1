"""Adapters that turn a helpdesk's own records into metrics_engine events (pure: no I/O).

- :mod:`metrics_engine.sources.kayako`: Kayako API v1 responses (docs/kayako.md).
"""

from __future__ import annotations

from metrics_engine.sources import kayako

__all__ = ["kayako"]
