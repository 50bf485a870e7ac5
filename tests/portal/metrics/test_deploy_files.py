"""The deployment files set up scraping: annotations, the token, the timings' folder."""

import yaml

from tests.processes import ROOT

DEPLOY = ROOT / "deploy"


def test_web_pods_are_annotated_for_scraping_with_a_multiprocess_folder_on_tmp():
    web = next(yaml.safe_load_all((DEPLOY / "kubernetes" / "base" / "web.yaml").read_text()))
    template = web["spec"]["template"]
    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8000",
        "prometheus.io/path": "/metrics",
    }
    [container] = template["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"secretRef": {"name": "portal-secrets"}} in container["envFrom"]


def test_the_env_example_asks_for_a_metrics_token():
    lines = (DEPLOY / "env.example").read_text().splitlines()
    assert "METRICS_TOKEN=change-me" in lines
    assert "SENTRY_DSN=" in lines
