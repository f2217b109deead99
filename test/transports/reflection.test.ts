import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { bufPath } from "../support/paths.js";
import { startTestService, type RunningService } from "../support/running-service.js";

const run = promisify(execFile);

describe("gRPC reflection and health, through `buf curl` with no proto file", () => {
  let svc: RunningService;
  before(async () => {
    svc = await startTestService();
  });
  after(() => svc.close());

  const bufCurl = (...args: string[]) =>
    run(bufPath, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 });

  it("lists the service's and the health service's methods", async () => {
    const { stdout } = await bufCurl("--list-methods", svc.grpcUrl);
    assert.deepEqual(stdout.trim().split("\n"), [
      "clustertoken.v1.ClusterTokenService/GenerateToken",
      "clustertoken.v1.ClusterTokenService/GetKubeconfig",
      "clustertoken.v1.ClusterTokenService/ListClusters",
      "grpc.health.v1.Health/Check",
      "grpc.health.v1.Health/List",
      "grpc.health.v1.Health/Watch",
    ]);
  });

  it("reports SERVING for the server and for ClusterTokenService", async () => {
    for (const service of ["", "clustertoken.v1.ClusterTokenService"]) {
      const { stdout } = await bufCurl("-d", JSON.stringify({ service }), `${svc.grpcUrl}/grpc.health.v1.Health/Check`);
      assert.deepEqual(JSON.parse(stdout), { status: "SERVING" });
    }
  });

  it("calls GenerateToken by reflection", async () => {
    const { stdout } = await bufCurl("-d", '{"clusterId":"demo-eks"}', `${svc.grpcUrl}/clustertoken.v1.ClusterTokenService/GenerateToken`);
    const credential = JSON.parse(stdout) as { kind: string; status: { token: string; expirationTimestamp: string } };
    assert.equal(credential.kind, "ExecCredential");
    assert.match(credential.status.token, /^k8s-aws-v1\./);
    assert.match(credential.status.expirationTimestamp, /Z$/);
  });
});
