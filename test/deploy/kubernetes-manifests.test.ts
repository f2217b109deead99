import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
};

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

describe("deploy/kubernetes: the kustomize base renders a production-grade deployment", () => {
  let manifests: Manifest[];
  let config: ServiceConfig;
  const one = (kind: string) => {
    const found = manifests.filter((m) => m.kind === kind);
    assert.equal(found.length, 1, `exactly one ${kind}`);
    return found[0]!;
  };
  before(async () => {
    const { stdout } = await promisify(execFile)("kubectl", ["kustomize", "deploy/kubernetes"], { cwd: repoRoot, timeout: 60_000 });
    manifests = parseAllDocuments(stdout).map((doc) => doc.toJS() as Manifest);
    config = parseConfig(providers, one("ConfigMap").data!["config.yaml"]!, "/etc/cluster-token/config.yaml");
  });

  it("runs 2 replicas of the image's entry point, with the config from the ConfigMap and TLS and secrets from Secrets", () => {
    const deployment = one("Deployment");
    assert.equal(deployment.apiVersion, "apps/v1");
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    assert.equal(pod.containers.length, 1);
    assert.match(container.image, /cluster-token-service:/);
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
    assert.ok(writable.includes("/var/log/cluster-token"), "the audit file's directory is a writable volume");
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

  it("documents workload identity on the ServiceAccount: IRSA and GKE Workload Identity", () => {
    const annotations = one("ServiceAccount").metadata.annotations ?? {};
    assert.ok("eks.amazonaws.com/role-arn" in annotations);
    assert.ok("iam.gke.io/gcp-service-account" in annotations);
  });
});
