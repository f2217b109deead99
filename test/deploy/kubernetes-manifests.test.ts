import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { repoRoot } from "../support/paths.js";

type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));
const base = join(repoRoot, "deploy", "kubernetes");

/** Renders a kustomization directory offline, as `kubectl kustomize` does. */
async function render(dir: string): Promise<Manifest[]> {
  const { stdout } = await promisify(execFile)("kubectl", ["kustomize", dir], { timeout: 60_000 });
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as Manifest);
}

/** Renders an overlay of the base with `components` added, from a temporary folder (kustomize wants relative paths). */
async function renderWithComponents(components: string[]): Promise<Manifest[]> {
  const dir = await mkdtemp(join(tmpdir(), "cts-overlay-"));
  const path = (target: string) => relative(dir, target);
  await writeFile(
    join(dir, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      `resources: [${path(base)}]`,
      `components: [${components.map((c) => path(join(base, "components", c))).join(", ")}]`,
      "",
    ].join("\n"),
  );
  return render(dir);
}

type EgressRule = { to?: { ipBlock?: { cidr: string } }[]; ports?: { port: number | string; protocol?: string }[] };

/** "cidr:port" for every ipBlock egress of the NetworkPolicy; rules without `to` (any destination) are "*:port". */
function egressOf(manifests: Manifest[]): string[] {
  const policy = manifests.find((m) => m.kind === "NetworkPolicy")!;
  return (policy.spec.egress as EgressRule[]).flatMap((rule) =>
    (rule.ports ?? []).flatMap((p) => (rule.to ?? [{}]).map((peer) => `${peer.ipBlock?.cidr ?? "*"}:${p.port}`)),
  );
}

describe("deploy/kubernetes: the kustomize base renders a production-grade deployment", () => {
  let manifests: Manifest[];
  let config: ServiceConfig;
  const one = (kind: string) => {
    const found = manifests.filter((m) => m.kind === kind);
    assert.equal(found.length, 1, `exactly one ${kind}`);
    return found[0]!;
  };
  before(async () => {
    manifests = await render(base);
    config = parseConfig(providers, one("ConfigMap").data!["config.yaml"]!, "/etc/cluster-token/config.yaml");
  });

  it("runs 2 replicas of the image's entry point, with the config from the ConfigMap and TLS and secrets from Secrets", () => {
    const deployment = one("Deployment");
    assert.equal(deployment.apiVersion, "apps/v1");
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(pod.containers.length, 1);
    assert.equal(container.image, "cluster-token-service", "the name the Dockerfile's `docker build -t` gives; overlays set the registry");
    assert.equal(container.command, undefined, "the image's ENTRYPOINT runs cluster-token serve");
    const volume = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);
    assert.equal(volume("config").configMap.name, one("ConfigMap").metadata.name, "the generated ConfigMap, hash suffix included");
    assert.ok(
      container.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === "config" && m.mountPath === "/etc/cluster-token"),
    );
    assert.ok(volume("tls").secret.secretName);
    assert.ok(volume("secrets").secret.secretName);
    assert.ok(config.security.tls?.certFile.startsWith("/etc/cluster-token-tls/"), "the config reads TLS from the Secret's mount");
    assert.equal(pod.serviceAccountName, one("ServiceAccount").metadata.name);
  });

  it("probes with the native gRPC probe on the plaintext health port, and drains as the config says", () => {
    const pod = one("Deployment").spec.template.spec;
    const [container] = pod.containers;
    const healthPort = portOf(config.listen.health ?? "");
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      assert.equal(container[probe].grpc.port, healthPort, `${probe} uses grpc on listen.health`);
    }
    assert.equal(container.readinessProbe.grpc.service, "clustertoken.v1.ClusterTokenService");
    const { drainDelaySeconds, graceSeconds } = config.shutdown;
    assert.ok(drainDelaySeconds > 0, "a drain delay, so that endpoints catch up before the listeners close");
    assert.ok(pod.terminationGracePeriodSeconds > drainDelaySeconds + graceSeconds, "Kubernetes waits longer than the service takes");
    const liveness = container.livenessProbe;
    assert.ok(liveness.periodSeconds * liveness.failureThreshold > drainDelaySeconds + graceSeconds, "a drain never looks like death");
  });

  it("runs locked down: non-root, read-only root filesystem, no privilege escalation, no capabilities, bounded resources", () => {
    const pod = one("Deployment").spec.template.spec;
    const [container] = pod.containers;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(container.resources.limits.memory);
    assert.ok(pod.topologySpreadConstraints.length >= 1);
    const writable = container.volumeMounts
      .filter((m: { readOnly?: boolean }) => !m.readOnly)
      .map((m: { mountPath: string }) => m.mountPath);
    assert.deepEqual(writable, ["/tmp"], "nothing writable but a small in-memory /tmp");
  });

  it("exposes both listeners through a Service with appProtocol, and the container's ports match the config", () => {
    const container = one("Deployment").spec.template.spec.containers[0];
    const containerPort = (name: string) => container.ports.find((p: { name: string }) => p.name === name)?.containerPort;
    assert.equal(containerPort("grpc"), portOf(config.listen.grpc));
    assert.equal(containerPort("http"), portOf(config.listen.http));
    assert.equal(containerPort("metrics"), portOf(config.listen.metrics ?? ""));
    assert.equal(containerPort("probes"), portOf(config.listen.health ?? ""));
    const service = one("Service");
    const byTarget = (target: string) => service.spec.ports.find((p: { targetPort: string }) => p.targetPort === target);
    assert.equal(byTarget("grpc").appProtocol, "grpc");
    assert.equal(byTarget("http").appProtocol, "https");
    const podLabels = one("Deployment").spec.template.metadata.labels;
    for (const [key, value] of Object.entries(service.spec.selector as Record<string, string>)) assert.equal(podLabels[key], value);
  });

  it("scales with an autoscaling/v2 HPA, keeps one pod through disruptions, and restricts traffic with a NetworkPolicy", () => {
    const podLabels = one("Deployment").spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    const hpa = one("HorizontalPodAutoscaler");
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: one("Deployment").metadata.name });
    assert.ok(hpa.spec.minReplicas >= 2);
    const pdb = one("PodDisruptionBudget");
    assert.equal(pdb.apiVersion, "policy/v1");
    assert.ok(matches(pdb.spec.selector.matchLabels));
    const policy = one("NetworkPolicy");
    assert.ok(matches(policy.spec.podSelector.matchLabels));
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    const ingressPorts = policy.spec.ingress.flatMap((rule: { ports: { port: string }[] }) => rule.ports.map((p) => p.port));
    assert.ok(ingressPorts.includes("grpc") && ingressPorts.includes("http") && ingressPorts.includes("metrics"));
  });

  it("writes the audit log to standard output, where the node's log shipper collects it", () => {
    assert.equal(config.audit.file, undefined, "no audit.file: audit lines go to standard output");
    const pod = one("Deployment").spec.template.spec;
    assert.ok(!pod.volumes.some((v: { emptyDir?: unknown; name: string }) => v.name === "audit"), "no unshipped audit volume");
  });

  it("opens no link-local metadata endpoint in the base: egress is DNS and HTTPS only", () => {
    assert.deepEqual(egressOf(manifests).sort(), ["*:443", "*:53", "*:53"]);
  });

  it("opens each cloud identity's metadata endpoint with its component, and nothing more", async () => {
    const added = async (component: string) => {
      const rules = egressOf(await renderWithComponents([component]));
      return rules.filter((rule) => !rule.startsWith("*:")).sort();
    };
    // metadata.google.internal is 169.254.169.254; GKE's metadata server also listens on 169.254.169.252:988.
    assert.deepEqual(await added("gke-workload-identity"), ["169.254.169.252/32:988", "169.254.169.254/32:80"]);
    assert.deepEqual(await added("azure-managed-identity"), ["169.254.169.254/32:80"], "Azure IMDS");
    assert.deepEqual(await added("eks-pod-identity"), ["169.254.170.23/32:80", "fd00:ec2::23/128:80"], "never the node's IMDS");
  });

  it("takes the image from an overlay's `images:` (deploy/example-overlay), pinned by digest", async () => {
    const example = await render(join(repoRoot, "deploy", "example-overlay"));
    const deployment = example.find((m) => m.kind === "Deployment")!;
    assert.match(
      deployment.spec.template.spec.containers[0].image,
      /^registry\.example\.com\/platform\/cluster-token-service@sha256:[0-9a-f]{64}$/,
    );
    for (const kind of ["PrometheusRule", "ServiceMonitor"]) {
      const found = example.find((m) => m.kind === kind);
      assert.equal(found?.metadata.namespace, deployment.metadata.namespace, `${kind} in the service's namespace`);
    }
    const monitor = example.find((m) => m.kind === "ServiceMonitor")!;
    const service = example.find((m) => m.kind === "Service")!;
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) {
      assert.equal(service.metadata.labels?.[key], value, "the ServiceMonitor selects the Service");
    }
    assert.ok(service.spec.ports.some((p: { name: string }) => p.name === monitor.spec.endpoints[0].port));
    const dashboard = example.find((m) => m.kind === "ConfigMap" && m.metadata.labels?.grafana_dashboard === "1");
    assert.ok(dashboard?.data?.["grafana-dashboard.json"], "the dashboard, labelled for Grafana's sidecar");
  });

  it("documents workload identity on the ServiceAccount: IRSA and GKE Workload Identity", () => {
    const annotations = one("ServiceAccount").metadata.annotations ?? {};
    assert.ok("eks.amazonaws.com/role-arn" in annotations);
    assert.ok("iam.gke.io/gcp-service-account" in annotations);
  });
});
