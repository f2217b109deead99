import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { parse, stringify } from "yaml";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { expectError } from "../support/error-info.js";
import { sample } from "../support/metric-sample.js";
import { type ServeProcess, startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys, testCaData, testAwsEnv } from "../support/test-config.js";

const lateSecret = "late/Secret+Access/Key0123456789abcdefghij";

/**
 * A secret that is not there yet, on `cluster-token serve` itself: named at start-up
 * (a warn line and a metric per credentials entry) while the service serves every
 * other cluster; its calls fail with SECRET_UNRESOLVABLE and are not counted as a
 * cloud's outcome; once the file appears, it is named as resolvable and the calls
 * succeed, with no restart and no signal.
 */
describe("unresolvable secret references on the real process", () => {
  let svc: ServeProcess;
  let dir: string;
  let metricsUrl: string;
  const client = () => createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
  const metrics = async () => (await fetch(`${metricsUrl}/metrics`)).text();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cts-late-secret-"));
    const raw = rawTestConfig() as { listen: Record<string, string>; credentials: Record<string, unknown>; clusters: unknown[] };
    raw.listen.metrics = "127.0.0.1:0";
    raw.credentials["aws-late"] = {
      provider: "aws",
      accessKeyId: { env: "CTS_TEST_AWS_ACCESS_KEY_ID" },
      secretAccessKey: { file: join(dir, "late-secret") },
    };
    raw.clusters.push({
      id: "late-eks",
      provider: "aws",
      region: "us-west-2",
      name: "late",
      credentials: "aws-late",
      endpoint: "https://LATE.gr7.us-west-2.eks.amazonaws.com",
      certificateAuthorityData: testCaData,
    });
    svc = await startServeProcess(raw, { env: testAwsEnv });
    metricsUrl = `http://${String((await svc.waitForLine((l) => l.msg === "serving")).metrics)}`;
  });
  after(async () => {
    svc?.child.kill("SIGTERM");
    await svc?.exited();
  });

  it("names the reference at start-up with its credentials entry, and serves", async () => {
    const warning = await svc.waitForLine((l) => l.level === "warn" && l.credentials === "aws-late");
    assert.deepEqual(
      { key: warning.key, reference: warning.reference, problem: warning.problem },
      { key: "secretAccessKey", reference: `file ${join(dir, "late-secret")}`, problem: "cannot be read (ENOENT)" },
    );
    const checked = await svc.waitForLine((l) => l.msg === "secret references checked");
    assert.deepEqual([checked.references, checked.unresolvable], [4, 1]);
    const text = await metrics();
    assert.equal(sample(text, "cluster_token_unresolvable_secret_references", { credentials: "aws-late" }), 1);
    assert.equal(sample(text, "cluster_token_unresolvable_secret_references", { credentials: "aws-test" }), 0);
    const { status } = await client().generateToken({ clusterId: "demo-eks" });
    assert.match(status?.token ?? "", /^k8s-aws-v1\./, "the other clusters are served");
  });

  it("fails the calls that need it with SECRET_UNRESOLVABLE, which is no cloud's outcome", async () => {
    const { info } = await expectError(client().generateToken({ clusterId: "late-eks" }), Code.FailedPrecondition);
    assert.equal(info.reason, "SECRET_UNRESOLVABLE");
    const text = await metrics();
    assert.equal(sample(text, "grpc_server_handled_total", { grpc_method: "GenerateToken", grpc_code: "FailedPrecondition" }), 1);
    assert.equal(sample(text, "cluster_token_upstream_seconds_count", { outcome: "SECRET_UNRESOLVABLE" }), undefined);
    assert.ok(!/outcome="SECRET_UNRESOLVABLE"/.test(text), "not counted as a cloud failing");
    assert.equal(sample(text, "cluster_token_upstream_seconds_count", { provider: "aws", operation: "token", outcome: "ok" }), 1);
  });

  it("names the reference as resolvable once the file appears, and the calls succeed", async () => {
    const from = svc.lines().length;
    await writeFile(join(dir, "late-secret"), `${lateSecret}\n`, { mode: 0o600 });
    const resolved = await svc.waitForLine((l) => l.msg === "a secret reference can be resolved now", 20_000, from);
    assert.deepEqual([resolved.credentials, resolved.key], ["aws-late", "secretAccessKey"]);
    assert.equal(sample(await metrics(), "cluster_token_unresolvable_secret_references", { credentials: "aws-late" }), 0);
    const { status } = await client().generateToken({ clusterId: "late-eks" });
    assert.match(status?.token ?? "", /^k8s-aws-v1\./);
    assert.ok(!svc.stdout().includes(lateSecret) && !svc.stdout().includes(testAwsKeys.secretAccessKey), "no secret in any line");
  });

  it("checks again on a reload: a new entry's reference is named, a removed entry's series goes", async () => {
    const raw = parse(await readFile(svc.configFile, "utf8")) as { credentials: Record<string, unknown>; clusters: { id: string }[] };
    delete raw.credentials["aws-late"];
    raw.clusters = raw.clusters.filter((cluster) => cluster.id !== "late-eks");
    raw.credentials["aws-other"] = {
      provider: "aws",
      accessKeyId: { env: "CTS_TEST_UNSET_KEY_ID" },
      secretAccessKey: { env: "CTS_TEST_AWS_SECRET_ACCESS_KEY" },
    };
    await writeFile(svc.configFile, stringify(raw));
    const from = svc.lines().length;
    svc.child.kill("SIGHUP");
    await svc.waitForLine((l) => l.msg === "config reloaded", 20_000, from);
    const warning = await svc.waitForLine((l) => l.level === "warn" && l.credentials === "aws-other", 20_000, from);
    assert.deepEqual([warning.key, warning.reference, warning.problem], ["accessKeyId", "env CTS_TEST_UNSET_KEY_ID", "is not set"]);
    await svc.waitForLine((l) => l.msg === "secret references checked", 20_000, from);
    const text = await metrics();
    assert.equal(sample(text, "cluster_token_unresolvable_secret_references", { credentials: "aws-other" }), 1);
    assert.equal(sample(text, "cluster_token_unresolvable_secret_references", { credentials: "aws-late" }), undefined);
  });
});
