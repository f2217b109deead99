import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import type { AwsCredentialConfig } from "../../src/drivers/aws/aws-config.js";
import { ConfigError, configEnvVar, embeddedConfigPath, loadConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import { withChange } from "../support/config-variants.js";

describe("loadConfig", () => {
  it("uses the embedded development config when nothing names one", async () => {
    const loaded = await loadConfig(providers, undefined, {});
    assert.equal(loaded.embedded, true);
    assert.equal(loaded.path, embeddedConfigPath);
    assert.deepEqual(loaded.config.listen, { grpc: "127.0.0.1:50051", http: "127.0.0.1:8080" });
    const demo = loaded.config.credentials["aws-demo"] as AwsCredentialConfig;
    assert.deepEqual(demo.secretAccessKey, { file: embeddedConfigPath.replace(/default\.yaml$/, "demo/aws-secret-access-key") });
  });

  it("prefers --config over CLUSTER_TOKEN_CONFIG, and anchors relative secret files at the config's directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-config-"));
    const raw = withChange((r) => (r.credentials["aws-test"]!.secretAccessKey = { file: "secrets/key" }));
    await writeFile(join(dir, "a.yaml"), stringify(raw));
    await writeFile(join(dir, "b.yaml"), stringify(withChange((r) => (r.clusters[0]!.id = "from-b"))));
    const fromEnv = await loadConfig(providers, undefined, { [configEnvVar]: join(dir, "b.yaml") });
    assert.equal(fromEnv.embedded, false);
    assert.equal(fromEnv.config.clusters[0]!.id, "from-b");
    const explicit = await loadConfig(providers, join(dir, "a.yaml"), { [configEnvVar]: join(dir, "b.yaml") });
    assert.equal(explicit.config.clusters[0]!.id, "demo-eks");
    assert.deepEqual((explicit.config.credentials["aws-test"] as AwsCredentialConfig).secretAccessKey, { file: join(dir, "secrets/key") });
  });

  it("reports an unreadable file as a ConfigError", async () => {
    await assert.rejects(
      loadConfig(providers, "/nonexistent/config.yaml", {}),
      (err: unknown) => err instanceof ConfigError && /cannot read the file \(ENOENT\)/.test(err.message),
    );
  });
});
