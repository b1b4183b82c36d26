import os
import sys
from pathlib import Path

import pytest
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

# Markers, given in one place so that no module can forget them: everything
# under tests/integration talks to real peers over sockets ("integration"),
# and the tests below take seconds each ("slow"; `-m "not slow"` for a quick
# run). Measured with --durations on this machine.
SLOW = {
    "test_memory_stays_bounded_on_a_long_capture",
    "test_connections_mid_message_stay_within_the_per_connection_cap",
    "test_a_syn_flood_takes_bounded_memory",
    "test_the_command_line_stays_within_its_memory_cap",
    "test_fail_fast_matches_brute_force_on_every_two_byte_tail",
    "test_64_mib_frame_in_1_kib_chunks_streaming_stays_small",
    "test_dissect_memory_stays_bounded_on_a_long_stream",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark integration tests by their folder and slow ones by name."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
        if getattr(item, "originalname", item.name) in SLOW:
            item.add_marker(pytest.mark.slow)
