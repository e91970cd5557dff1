"""Hypothesis profiles: ``ci`` keeps .ci/run short, ``dev`` digs deeper.

Pick one with ``--hypothesis-profile=NAME`` (the README's test command uses ``ci``); without
it, ``HYPOTHESIS_PROFILE`` or ``dev`` applies.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
