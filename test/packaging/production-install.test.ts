import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { repoRoot } from "../support/paths.js";
import { startServeProcess } from "../support/serve-process.js";
import { rawTestConfig, testAwsKeys } from "../support/test-config.js";

const run = promisify(execFile);

/** The Dockerfile's install steps, in the same order, without Docker. */
describe("the image's install steps: npm pack, a production-only install of the tarball, serve", () => {
  it("packs, installs without dev dependencies, and serves from the installed package", { timeout: 240_000 }, async () => {
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    assert.match(dockerfile, /npm pack --ignore-scripts --pack-destination \/pkg/, "the Dockerfile packs as this test does");
    assert.match(dockerfile, /npm install --omit=dev --no-audit --no-fund --ignore-scripts --no-save \/pkg\/cluster-token-service-\*\.tgz/);
    assert.match(dockerfile, /^FROM gcr\.io\/distroless\/nodejs2[24]-debian12:nonroot$/m, "a Node 22 or 24 runtime");
    assert.match(dockerfile, /^USER 65532:65532$/m, "non-root");

    const packDir = await mkdtemp(join(tmpdir(), "cts-pack-"));
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", packDir], { cwd: repoRoot });
    const tarball = readdirSync(packDir).find((name) => name.startsWith("cluster-token-service-") && name.endsWith(".tgz"));
    assert.ok(tarball, "npm pack made a tarball");

    const app = await mkdtemp(join(tmpdir(), "cts-app-"));
    await run(
      "npm",
      ["install", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--no-save", "--prefer-offline", join(packDir, tarball)],
      {
        cwd: app,
        timeout: 200_000,
      },
    );
    const installed = join(app, "node_modules");
    assert.ok(existsSync(join(installed, "cluster-token-service", "dist", "src", "cli", "bin.cjs")));
    assert.ok(existsSync(join(installed, "cluster-token-service", "descriptors", "cluster-token.binpb")), "the descriptor set ships");
    for (const devOnly of ["typescript", "@biomejs/biome", "@bufbuild/buf", "@bufbuild/protoc-gen-es"]) {
      assert.ok(!existsSync(join(installed, devOnly)), `${devOnly} is a dev dependency and is not installed`);
    }
    assert.ok(!existsSync(join(installed, "cluster-token-service", "dist", "test")), "tests are not packed");

    const svc = await startServeProcess(rawTestConfig(), {
      bin: join(installed, "cluster-token-service", "dist", "src", "cli", "bin.cjs"),
      cwd: app,
      env: { CTS_TEST_AWS_ACCESS_KEY_ID: testAwsKeys.accessKeyId, CTS_TEST_AWS_SECRET_ACCESS_KEY: testAwsKeys.secretAccessKey },
    });
    try {
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      const { status } = await client.generateToken({ clusterId: "demo-eks" });
      assert.match(status?.token ?? "", /^k8s-aws-v1\./);
      svc.child.kill("SIGTERM");
      assert.deepEqual(await svc.exited(), { code: 0, signal: null });
    } finally {
      svc.child.kill("SIGKILL");
    }
  });
});
