"""The CI/CD workflows for GitHub Actions, checked offline: valid against the workflow
schema, and running what they say (the README's test command; the image with its commit)."""

import re
import subprocess

import pytest
import yaml

from tests.servers import ROOT
from tests.tools import tool

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def test_there_is_a_test_workflow_and_an_image_workflow():
    assert [path.name for path in WORKFLOWS] == ["image.yml", "test.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflows_follow_the_github_workflow_schema(path):
    checker = tool("check-jsonschema", "pip install -r requirements-dev.txt")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njobs:\n  test:\n    steps: []\n")  # no runs-on
    checker = tool("check-jsonschema", "pip install -r requirements-dev.txt")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_the_test_workflow_runs_the_suite_on_postgresql_and_redis_containers():
    [job] = load("test.yml")["jobs"].values()
    assert job["services"]["postgres"]["image"].startswith("postgres:17")
    assert job["services"]["redis"]["image"].startswith("redis:7")
    runs = [step for step in job["steps"] if step.get("run") == "bin/test"]
    assert len(runs) == 2  # the embedded default, then the real services
    assert runs[1]["env"]["DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:5432/")
    assert runs[1]["env"]["REDIS_URL"].startswith("redis://127.0.0.1:6379/")
    assert runs[1]["env"]["EXPECT_DATABASE"] == "postgresql"
    # The tools .ci/run installs for the deployment tests, promtool's package among them.
    installed = " ".join(step.get("run", "") for step in job["steps"])
    for package in ["nginx-light", "shellcheck", "docker-compose", "prometheus", "chromium"]:
        assert package in installed, package


def test_the_image_workflow_tags_with_the_commit_and_version_and_pushes_on_tags():
    workflow = load("image.yml")
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on is True
    assert triggers["push"]["tags"] == ["v*"]
    [job] = workflow["jobs"].values()
    [build] = [step for step in job["steps"] if "build-push-action" in step.get("uses", "")]
    options = build["with"]
    assert options["file"] == "Dockerfile.prod"
    assert options["push"] == "${{ github.ref_type == 'tag' }}"
    assert "PORTAL_COMMIT=${{ github.sha }}" in options["build-args"]
    assert ":${{ github.sha }}" in options["tags"]
    assert ":${{ steps.version.outputs.version }}" in options["tags"]


def test_the_image_carries_its_commit_as_a_label_and_in_the_environment():
    dockerfile = (ROOT / "Dockerfile.prod").read_text()
    final = dockerfile[dockerfile.rindex("\nFROM ") :]
    assert "ARG PORTAL_COMMIT=" in final
    assert re.search(r'org\.opencontainers\.image\.revision="\$\{PORTAL_COMMIT\}"', final)
    assert "PORTAL_COMMIT=${PORTAL_COMMIT}" in final
