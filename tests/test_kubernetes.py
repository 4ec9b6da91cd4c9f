"""The Kubernetes manifests (deploy/kubernetes/): valid against the Kubernetes schemas, offline,
and free of the usual mistakes. docs/deploy-kubernetes.md describes them.
"""

import copy
import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
CNPG = MANIFESTS / "components" / "cloudnative-pg"
# The oldest Kubernetes release still supported upstream when these were written.
KUBERNETES_VERSION = "1.32.0"
# Kinds that come with an operator's CRDs, so the Kubernetes schemas do not know them.
OPERATOR_KINDS = {("postgresql.cnpg.io/v1", "Cluster")}
NOT_RESOURCES = {"kustomization.yaml", "secret.template.yaml"}


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.rglob("*.yaml") if p.name != "kustomization.yaml")


def all_documents() -> list[dict]:
    return [doc for path in manifest_files() for doc in documents(path)]


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in all_documents() if doc["kind"] == kind}


def pod_specs(docs) -> list[tuple[str, dict]]:
    specs = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            specs.append((f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]))
    return specs


def lint(docs) -> list[str]:
    """The usual mistakes, one message each: moving tags, no probes or limits, root, writable /."""
    problems = []
    for name, template in pod_specs(docs):
        spec = template["spec"]
        pod_security = spec.get("securityContext", {})
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: mounts a service account token it does not need")
        long_running = not name.startswith("Job/")
        containers = [(c, True) for c in spec["containers"]]
        containers += [(c, False) for c in spec.get("initContainers", [])]
        for container, main in containers:
            where = f"{name} {container['name']}"
            image = container.get("image", "")
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if "@sha256:" not in image and (not tag or tag == "latest"):
                problems.append(f"{where}: image {image!r} has no fixed tag")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(kind, {}):
                        problems.append(f"{where}: no {resource} {kind[:-1]}")
            if main and long_running:
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in container:
                        problems.append(f"{where}: no {probe}")
            security = container.get("securityContext", {})
            if not security.get("runAsNonRoot", pod_security.get("runAsNonRoot")):
                problems.append(f"{where}: may run as root")
            if security.get("runAsUser", pod_security.get("runAsUser")) in (None, 0):
                problems.append(f"{where}: no non-root runAsUser")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem is writable")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: may escalate privileges")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: keeps Linux capabilities")
    return problems


def test_every_manifest_is_valid_against_the_kubernetes_schemas():
    checked = 0
    for path in manifest_files():
        for doc in documents(path):
            if (doc["apiVersion"], doc["kind"]) in OPERATOR_KINDS:
                with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
                    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
                continue
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            checked += 1
    assert checked >= 19


def test_the_validator_refuses_a_broken_manifest():
    [deployment] = [d for d in documents(MANIFESTS / "web.yaml") if d["kind"] == "Deployment"]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8000"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_container_has_a_fixed_image_limits_probes_and_no_root():
    docs = all_documents()
    assert len(pod_specs(docs)) == 5  # web, worker, scheduler, nginx, migrate
    assert lint(docs) == []


def test_the_lint_catches_the_usual_mistakes():
    docs = copy.deepcopy(all_documents())
    [web] = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "portal-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    # New values, not edits: YAML anchors make the containers share these dicts.
    container["image"] = "registry.example.com/contest-portal:latest"
    del container["readinessProbe"]
    container["resources"] = {**container["resources"], "limits": {"cpu": "1"}}
    container["securityContext"] = {
        **container["securityContext"],
        "readOnlyRootFilesystem": False,
        "runAsNonRoot": False,
    }
    init = web["spec"]["template"]["spec"]["initContainers"][0]
    init["image"] = "registry.example.com/contest-portal"
    assert sorted(lint(docs)) == sorted(
        [
            "Deployment/portal-web web: image 'registry.example.com/contest-portal:latest' "
            "has no fixed tag",
            "Deployment/portal-web web: no readinessProbe",
            "Deployment/portal-web web: no memory limit",
            "Deployment/portal-web web: root filesystem is writable",
            "Deployment/portal-web web: may run as root",
            "Deployment/portal-web wait-for-migrations: image "
            "'registry.example.com/contest-portal' has no fixed tag",
        ]
    )


def test_the_kustomization_applies_every_manifest_but_the_secret_template():
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    top_level = {p.name for p in MANIFESTS.glob("*.yaml")} - NOT_RESOURCES
    assert set(kustomization["resources"]) == top_level
    [generated] = kustomization["configMapGenerator"]
    assert generated["files"] == ["default.conf.template=nginx/default.conf.template"]
    component = yaml.safe_load((CNPG / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"
    assert component["resources"] == ["cluster.yaml"]


def test_nginx_renders_the_same_template_as_docker_compose():
    copied = MANIFESTS / "nginx" / "default.conf.template"
    original = ROOT / "deploy" / "nginx" / "templates" / "default.conf.template"
    assert copied.read_text() == original.read_text()


def test_web_scales_on_cpu_behind_probes_and_a_disruption_budget():
    [web] = [d for d in documents(MANIFESTS / "web.yaml") if d["kind"] == "Deployment"]
    assert "replicas" not in web["spec"]  # the autoscaler owns it
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == [
        "gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi",
    ]  # fmt: skip
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    hosts = {h["value"] for h in container["readinessProbe"]["httpGet"]["httpHeaders"]}
    config = by_kind("ConfigMap")["portal-config"]["data"]
    assert config["DJANGO_ALLOWED_HOSTS"] in hosts
    hpa = by_kind("HorizontalPodAutoscaler")["portal-web"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "portal-web"
    assert hpa["spec"]["minReplicas"] >= 2
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    labels = web["spec"]["template"]["metadata"]["labels"]
    budgets = by_kind("PodDisruptionBudget")
    selector = budgets["portal-web"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert budgets["portal-web"]["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_celery_runs_as_workers_and_exactly_one_scheduler():
    deployments = by_kind("Deployment")
    worker = deployments["portal-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["command"][:4] == ["celery", "-A", "portal.celery_app", "worker"]
    scheduler = deployments["portal-scheduler"]
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    beat = scheduler["spec"]["template"]["spec"]["containers"][0]
    assert beat["command"][:4] == ["celery", "-A", "portal.celery_app", "beat"]


def test_migrations_run_as_the_owner_role():
    job = by_kind("Job")["portal-migrate"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert "manage.py migrate --no-input" in " ".join(container["command"])
    [database_url] = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
    assert database_url["valueFrom"]["secretKeyRef"] == {
        "name": "portal-secrets",
        "key": "DATABASE_MIGRATE_URL",
    }
    [secret] = documents(MANIFESTS / "secret.template.yaml")
    assert {"DATABASE_URL", "DATABASE_MIGRATE_URL", "DJANGO_SECRET_KEY", "REDIS_URL"} <= set(
        secret["stringData"]
    )
    # The web pods connect as the application role and only wait for the Job's work.
    web = by_kind("Deployment")["portal-web"]["spec"]["template"]["spec"]
    assert "DATABASE_MIGRATE_URL" not in str(web)
    [wait] = [c for c in web["initContainers"] if c["name"] == "wait-for-migrations"]
    assert wait["command"][-3:] == ["migrate", "--check", "--no-input"]


def reaches(port: int) -> set[str]:
    """The components whose pods may open connections to `port` outside the portal."""
    components = {"web", "worker", "scheduler", "nginx", "migrate"}
    allowed = set()
    for policy in by_kind("NetworkPolicy").values():
        spec = policy["spec"]
        for rule in spec.get("egress", []):
            if not any(p["port"] == port for p in rule.get("ports", [])):
                continue
            selector = spec["podSelector"]
            if "matchLabels" in selector:
                component = selector["matchLabels"].get("app.kubernetes.io/component")
                allowed |= components if component is None else {component}
            for expression in selector.get("matchExpressions", []):
                if expression["key"] == "app.kubernetes.io/component":
                    assert expression["operator"] == "In"
                    allowed |= set(expression["values"])
    return allowed


def test_only_the_pods_that_need_them_reach_postgresql_and_redis():
    [deny] = [p for p in by_kind("NetworkPolicy").values() if "ingress" not in p["spec"]
              and "egress" not in p["spec"]]  # fmt: skip
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert deny["spec"]["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/part-of": "contest-portal"}
    }
    assert reaches(5432) == {"web", "worker", "migrate"}
    assert reaches(6379) == {"web", "worker", "scheduler"}
    assert reaches(8000) == {"nginx"}
    # Every pod the policies speak of carries the label they select on.
    for _, template in pod_specs(all_documents()):
        assert template["metadata"]["labels"]["app.kubernetes.io/part-of"] == "contest-portal"


def test_the_cloudnative_pg_cluster_has_an_owner_and_an_application_role():
    [cluster] = documents(CNPG / "cluster.yaml")
    assert (cluster["apiVersion"], cluster["kind"]) == ("postgresql.cnpg.io/v1", "Cluster")
    assert cluster["spec"]["instances"] >= 2
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    assert initdb["owner"] == "portal_owner"
    [role] = cluster["spec"]["managed"]["roles"]
    assert role["name"] == "portal_app" and role["login"] is True
    # The policies let the portal reach its instances.
    [policy] = [p for p in by_kind("NetworkPolicy").values() if p["metadata"]["name"] ==
                "portal-postgresql-clients"]  # fmt: skip
    targets = policy["spec"]["egress"][0]["to"]
    assert {"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster["metadata"]["name"]}}} in (
        targets
    )


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl (its kustomize) is not installed")
@pytest.mark.parametrize("with_cnpg", [False, True])
def test_the_kustomize_build_is_valid(tmp_path, with_cnpg):
    overlay = {"resources": [os.path.relpath(MANIFESTS, tmp_path)]}
    if with_cnpg:
        overlay["components"] = [os.path.relpath(CNPG, tmp_path)]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
    built = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    kinds = [(doc["apiVersion"], doc["kind"]) for doc in docs]
    assert (("postgresql.cnpg.io/v1", "Cluster") in kinds) is with_cnpg
    for doc in docs:
        assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == "contest-portal"
        if (doc["apiVersion"], doc["kind"]) not in OPERATOR_KINDS:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert lint(docs) == []
    # The generated ConfigMap's hashed name is the one Nginx mounts.
    [templates] = [d for d in docs if d["metadata"]["name"].startswith("portal-nginx-templates")]
    assert templates["metadata"]["name"] in built.stdout.split("configMap:")[1]
