import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { startFakeEks } from "../fakes/fake-eks.js";
import { createTestServiceAccount, startFakeGcp, type FakeGcp } from "../fakes/fake-gcp.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { startFakeSts, type FakeSts } from "../fakes/fake-sts.js";
import { expectCode, expectError } from "../support/error-info.js";
import { startTestService, type RunningService } from "../support/running-service.js";
import { testAuditFile, testCaData, testConfig } from "../support/test-config.js";

const base = { accessKeyId: "AKIAFAULTBASE0000001", secretAccessKey: "fault-base-secret-abcdefghijklmnopqrstuv" };
const roleArn = "arn:aws:iam::123456789012:role/fault-issuer";
process.env.CTS_FAULT_AKID = base.accessKeyId;
process.env.CTS_FAULT_SECRET = base.secretAccessKey;

/** How long one upstream attempt may take, and the service's ceiling on a call, in this suite. */
const upstreamTimeoutSeconds = 1;
const variants = ["hang", "error", "other"] as const;
type Variant = (typeof variants)[number];
const maxCallSeconds = 3;

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
}

/**
 * Upstream faults through the real service: a cloud that accepts and never answers,
 * then recovers, and one that answers 500. A hung call never outlives its caller's
 * deadline nor the service's ceiling, and never poisons the calls after it.
 */
describe("upstream faults: bounded calls, truthful reasons, recovery", () => {
  let sts: FakeSts;
  let eks: FakeServer;
  let gcp: FakeGcp;
  let svc: RunningService;
  before(async () => {
    sts = await startFakeSts({
      keys: { [base.accessKeyId]: { secretAccessKey: base.secretAccessKey } },
      roles: { [roleArn]: { trustedKeys: [base.accessKeyId] } },
    });
    eks = await startFakeEks({
      region: "us-west-2",
      keys: sts.keys,
      clusters: { found: { endpoint: "https://found.eks.example.com", caData: testCaData } },
    });
    const account = createTestServiceAccount("faults@proj-faults.iam.gserviceaccount.com");
    gcp = await startFakeGcp({ serviceAccounts: [account], clusters: {} });
    const dir = await mkdtemp(join(tmpdir(), "cts-faults-"));
    await writeFile(join(dir, "sa.json"), account.keyFile);
    const keys = { accessKeyId: { env: "CTS_FAULT_AKID" }, secretAccessKey: { env: "CTS_FAULT_SECRET" } };
    svc = await startTestService(
      testConfig({
        listen: { grpc: "127.0.0.1:0", http: "127.0.0.1:0" },
        security: { insecurePlaintext: true },
        audit: { file: testAuditFile() },
        limits: { upstreamTimeoutSeconds, maxCallSeconds },
        // One credential entry and cluster per test, so that no test finds what an earlier one cached.
        credentials: Object.fromEntries(
          variants.flatMap((v) => [
            [`role-${v}`, { provider: "aws", ...keys, roleArn, stsEndpoint: sts.url }],
            [`plain-${v}`, { provider: "aws", ...keys }],
            [`gke-${v}`, { provider: "gcp", serviceAccountKey: { file: join(dir, "sa.json") }, tokenEndpoint: gcp.tokenUrl }],
          ]),
        ),
        clusters: variants.flatMap((v) => [
          {
            id: `assumed-${v}`,
            provider: "aws",
            region: "us-west-2",
            name: "assumed",
            credentials: `role-${v}`,
            endpoint: "https://assumed.example.com",
            certificateAuthorityData: testCaData,
          },
          { id: `found-${v}`, provider: "aws", region: "us-west-2", name: "found", credentials: `plain-${v}`, apiEndpoint: eks.url },
          {
            id: `web-gke-${v}`,
            provider: "gcp",
            project: "proj-faults",
            region: "europe-west4",
            name: "web",
            credentials: `gke-${v}`,
            endpoint: "https://35.1.2.3",
            certificateAuthorityData: testCaData,
          },
        ]),
      }),
    );
  });
  after(async () => {
    await svc.close();
    await Promise.all([sts.close(), eks.close(), gcp.close()]);
  });
  beforeEach(() => {
    sts.fault = undefined;
    eks.fault = undefined;
    gcp.fault = undefined;
  });

  const options = (timeoutMs?: number) => (timeoutMs === undefined ? {} : { timeoutMs });
  const shapes: {
    what: string;
    upstream: () => FakeServer;
    call: (v: Variant, timeoutMs?: number) => Promise<unknown>;
    verify: (result: unknown) => void;
  }[] = [
    {
      what: "STS AssumeRole",
      upstream: () => sts,
      call: (v, timeoutMs) => svc.grpc.generateToken({ clusterId: `assumed-${v}` }, options(timeoutMs)),
      verify: (result) => {
        const token = (result as { status: { token: string } }).status.token;
        const verdict = sts.verifyEksToken(token, "assumed", "us-west-2");
        assert.equal(verdict.ok, true, JSON.stringify(verdict));
        assert.equal((verdict as { identity: string }).identity, roleArn, "signed by the assumed role's temporary keys");
      },
    },
    {
      what: "the GKE token endpoint",
      upstream: () => gcp,
      call: (v, timeoutMs) => svc.grpc.generateToken({ clusterId: `web-gke-${v}` }, options(timeoutMs)),
      verify: (result) => assert.equal(gcp.verifyAccessToken((result as { status: { token: string } }).status.token).ok, true),
    },
    {
      what: "EKS discovery",
      upstream: () => eks,
      call: (v, timeoutMs) => svc.grpc.getKubeconfig({ clusterId: `found-${v}` }, options(timeoutMs)),
      verify: (result) => assert.match((result as { kubeconfig: string }).kubeconfig, /server: https:\/\/found\.eks\.example\.com/),
    },
  ];

  for (const { what, upstream, call, verify } of shapes) {
    it(`${what} accepting and never answering, then recovering`, async () => {
      upstream().fault = { hang: true };
      const short = await timed(expectCode(call("hang", 1_000), Code.DeadlineExceeded));
      assert.ok(short.ms < 1_100, `a 1 s deadline answered after ${Math.round(short.ms)} ms`);

      const open = await timed(expectError(call("hang"), Code.Unavailable));
      assert.equal(open.result.info.reason, "UPSTREAM_UNREACHABLE", open.result.error.message);
      assert.ok(open.ms < maxCallSeconds * 1000 + 200, `no deadline answered after ${Math.round(open.ms)} ms`);

      upstream().fault = undefined;
      const before = upstream().requests.length;
      const recovered = await timed(call("hang", 5_000));
      verify(recovered.result);
      assert.ok(upstream().requests.length > before, "the call after recovery reached the cloud again");
      assert.ok(recovered.ms < 1_000, `recovery took ${Math.round(recovered.ms)} ms`);
    });

    it(`${what} answering 500: UNAVAILABLE before a short deadline, not DEADLINE_EXCEEDED`, async () => {
      upstream().fault = { status: 500, body: "{}", contentType: "application/json" };
      const before = upstream().requests.length;
      const failed = await timed(expectError(call("error", 1_000), Code.Unavailable));
      assert.equal(failed.result.info.reason, "UPSTREAM_UNAVAILABLE");
      assert.ok(failed.ms < 1_000, `answered after ${Math.round(failed.ms)} ms`);
      const attempts = upstream().requests.length - before;
      assert.ok(attempts >= 2 && attempts <= 3, `retried within the budget: ${attempts} attempts`);
    });
  }

  it("keeps serving other clusters while one cloud hangs", async () => {
    sts.fault = { hang: true };
    const arrived = sts.requests.length;
    const hung = expectCode(svc.grpc.generateToken({ clusterId: "assumed-other" }, { timeoutMs: 2_000 }), Code.DeadlineExceeded);
    await sts.received(arrived + 1); // the hung call is surely waiting on STS
    const other = await timed(svc.grpc.generateToken({ clusterId: "web-gke-other" }, { timeoutMs: 2_000 }));
    assert.ok(other.ms < 500, `an unrelated call took ${Math.round(other.ms)} ms`);
    await hung;
  });
});
