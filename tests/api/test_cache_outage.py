"""Partner calls while the cache does not answer: answered from the database, and only the first
call waits for the cache (``core.breaker``)."""

import pytest

from tests.stalled import StalledServer

pytestmark = pytest.mark.django_db


def test_partner_calls_answer_from_the_database_while_the_cache_does_not(api_client, settings):
    """The key check, the rate limit and the catalog fall back to the database."""
    stalled = StalledServer()
    try:
        stalled.as_cache(settings)
        for _ in range(4):
            assert api_client.get("/api/v1/plans/").status_code == 200
        assert len(stalled.received) == 1
    finally:
        stalled.close()
