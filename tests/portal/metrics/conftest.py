import pytest
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def parse(text: str) -> dict:
    """Every sample of an exposition: {(name, ((label, value), ...)): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def scrape(client, metrics_token):
    """Scrape /metrics as Prometheus does; returns a function of (name, **labels) → value."""

    def scrape_once():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        samples = parse(response.content.decode())
        return lambda name, **labels: samples.get((name, tuple(sorted(labels.items()))))

    return scrape_once
