"""deploy/kubernetes: rendered with kustomize, validated offline, and checked by structure."""

import functools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from portal.celery import ALL_QUEUES
from tests.processes import ROOT

KUBECTL = "/usr/bin/kubectl"
KUBERNETES_VERSION = "1.37.0"
KUSTOMIZATIONS = {
    "base": ROOT / "deploy/kubernetes/base",
    "production": ROOT / "deploy/kubernetes/overlays/production",
}
ENTRYPOINT_COMMANDS = {"web", "worker", "beat", "migrate"}


@functools.cache
def rendered_text(name: str) -> str:
    result = subprocess.run(
        [KUBECTL, "kustomize", str(KUSTOMIZATIONS[name])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all(rendered_text(name)))


def of_kind(name: str, kind: str) -> list[dict]:
    return [doc for doc in documents(name) if doc["kind"] == kind]


def pod_specs(name: str) -> list[tuple[str, dict]]:
    workloads = of_kind(name, "Deployment") + of_kind(name, "Job")
    return [(doc["metadata"]["name"], doc["spec"]["template"]["spec"]) for doc in workloads]


def containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec["containers"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_rendered_document_is_valid_kubernetes(name, tmp_path):
    rendered = tmp_path / f"{name}.yaml"
    rendered.write_text(rendered_text(name))
    options = ["--strict", "--quiet", "--kubernetes-version", KUBERNETES_VERSION]
    result = subprocess.run(
        [Path(sys.executable).parent / "kubernetes-validate", *options, str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in documents(name)}
    assert kinds == {
        *("ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"),
        *("PodDisruptionBudget", "Job"),
    }


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_exactly_one_beat_never_two_during_an_upgrade(name):
    beats = [
        doc
        for doc in of_kind(name, "Deployment")
        if doc["spec"]["template"]["spec"]["containers"][0]["args"] == ["beat"]
    ]
    assert len(beats) == 1
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}
    assert not [hpa for hpa in of_kind(name, "HorizontalPodAutoscaler") if "beat" in str(hpa)]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_web_probes_point_at_the_portals_probe_urls(name):
    (web,) = [doc for doc in of_kind(name, "Deployment") if doc["metadata"]["name"] == "portal-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        path = container[probe]["httpGet"]["path"]
        assert resolve(path).url_name in {"health_ready", "health_live"}
    (hpa,) = of_kind(name, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "portal-web"
    (service,) = of_kind(name, "Service")
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_workers_per_queue_group_with_a_ping_of_themselves_as_liveness(name):
    workers = [
        doc["spec"]["template"]["spec"]["containers"][0]
        for doc in of_kind(name, "Deployment")
        if doc["metadata"]["name"].startswith("portal-worker-")
    ]
    queues = [
        next(var["value"] for var in worker["env"] if var["name"] == "WORKER_QUEUES")
        for worker in workers
    ]
    consumed = [queue for group in queues for queue in group.split(",")]
    assert len(consumed) == len(set(consumed))  # each queue has one group
    assert {"payments", "provisioning", "celery"} <= set(consumed)
    for worker in workers:
        assert worker["args"] == ["worker"]
        assert 'inspect ping --destination "worker@$HOSTNAME"' in " ".join(
            worker["livenessProbe"]["exec"]["command"]
        )


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_worker_groups_consume_exactly_the_queues_tasks_are_routed_to(name):
    groups = [
        var["value"]
        for doc in of_kind(name, "Deployment")
        for var in doc["spec"]["template"]["spec"]["containers"][0].get("env", [])
        if var["name"] == "WORKER_QUEUES"
    ]
    assert {queue for group in groups for queue in group.split(",")} == set(ALL_QUEUES)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_container_runs_the_one_image_as_non_root_with_resource_requests(name):
    images = set()
    for workload, spec in pod_specs(name):
        assert spec["securityContext"]["runAsNonRoot"] is True, workload
        assert spec["automountServiceAccountToken"] is False, workload
        for container in containers(spec):
            images.add(container["image"])
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), workload
            assert "memory" in container["resources"]["limits"], workload
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, workload
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, workload
            args = container.get("args") or container["command"]
            assert args[0] in ENTRYPOINT_COMMANDS or "/app/deploy/entrypoint" in args[-1]
            refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
            assert refs[0].startswith("portal-config-") and refs[1] == "portal-secrets"
    assert len(images) == 1
    if name == "production":
        assert images == {"registry.example/paksim-portal:1.0.0"}


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_deployment_has_a_disruption_budget(name):
    budgets = [
        doc["spec"]["selector"]["matchLabels"] for doc in of_kind(name, "PodDisruptionBudget")
    ]
    for deployment in of_kind(name, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b.items() <= labels.items()]
        assert len(matching) == 1, deployment["metadata"]["name"]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_migrate_job_runs_the_entrypoints_migrate_once(name):
    (job,) = of_kind(name, "Job")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    assert [container["args"] for container in spec["containers"]] == [["migrate"]]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_no_secret_value_in_the_manifests(name):
    assert of_kind(name, "Secret") == []
    (config,) = of_kind(name, "ConfigMap")
    assert not {"SECRET_KEY", "DATABASE_URL", "IDENTITY_DOCUMENT_KEYS"} & set(config["data"])
    assert config["data"]["PORTAL_MODE"] == "production"


def test_production_scales_up_from_the_base():
    def replicas(name):
        return {d["metadata"]["name"]: d["spec"]["replicas"] for d in of_kind(name, "Deployment")}

    base, production = replicas("base"), replicas("production")
    assert production["portal-beat"] == base["portal-beat"] == 1
    assert production["portal-web"] > base["portal-web"]
    assert production["portal-worker-payments"] > base["portal-worker-payments"]
    assert {doc["metadata"]["namespace"] for doc in documents("production")} == {"paksim"}
