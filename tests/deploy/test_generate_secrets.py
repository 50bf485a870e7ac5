"""generate_secrets: fresh values as env lines or a Kubernetes Secret; files only on request."""

import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

from tests.deploy.test_kubernetes import KUBERNETES_VERSION
from tests.processes import clean_env, manage

NAMES = ["SECRET_KEY", "API_KEY_PEPPER", "IDENTITY_DOCUMENT_KEYS", "METRICS_TOKEN"]
URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def generate(tmp_path, *args):
    result = manage("generate_secrets", *args, env=clean_env(tmp_path))
    assert result.returncode == 0, result.stderr
    return result.stdout


def env_values(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_env_lines_have_the_right_shapes_and_differ_between_runs(tmp_path):
    first, second = env_values(generate(tmp_path)), env_values(generate(tmp_path))
    assert list(first) == NAMES
    for name in ("SECRET_KEY", "API_KEY_PEPPER"):
        assert len(first[name]) >= 80 and set(first[name]) <= URL_SAFE
    assert len(first["METRICS_TOKEN"]) >= 40 and set(first["METRICS_TOKEN"]) <= URL_SAFE
    assert len(set(first.values())) == len(NAMES)
    assert not set(first.values()) & set(second.values())
    fernet = Fernet(first["IDENTITY_DOCUMENT_KEYS"].encode())
    assert fernet.decrypt(fernet.encrypt(b"passport scan")) == b"passport scan"
    assert {path.name for path in tmp_path.iterdir()} == {"secret_key", "static"}  # the dev key


def test_the_kubernetes_secret_validates(tmp_path):
    manifest = tmp_path / "secret.yaml"
    manifest.write_text(generate(tmp_path, "--format", "kubernetes"))
    secret = yaml.safe_load(manifest.read_text())
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "portal-secrets"
    assert list(secret["stringData"]) == NAMES
    Fernet(secret["stringData"]["IDENTITY_DOCUMENT_KEYS"].encode())
    options = ["--strict", "--quiet", "--kubernetes-version", KUBERNETES_VERSION]
    result = subprocess.run(
        [Path(sys.executable).parent / "kubernetes-validate", *options, str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_output_writes_a_private_new_file_and_never_overwrites(tmp_path):
    target = tmp_path / "portal.env"
    assert generate(tmp_path, "--output", str(target)) == ""
    assert target.stat().st_mode & 0o777 == 0o600
    written = target.read_text()
    assert list(env_values(written)) == NAMES
    result = manage("generate_secrets", "--output", str(target), env=clean_env(tmp_path))
    assert result.returncode != 0 and "never overwritten" in result.stderr
    assert target.read_text() == written
