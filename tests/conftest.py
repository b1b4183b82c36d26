import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Make tests/ helpers importable as plain modules (splitting, vectors...).
sys.path.insert(0, str(Path(__file__).parent))

# Property tests: CI uses a fixed, derandomized profile (the same examples on
# every run); HYPOTHESIS_PROFILE=deep explores more, with random seeds.
settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# tests/dist builds and installs the package (network, about a minute): it runs
# in `make test-dist`, which sets WSFRAME_TEST_DIST=1.
collect_ignore = [] if os.environ.get("WSFRAME_TEST_DIST") else ["dist"]
