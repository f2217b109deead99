import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServiceConfig } from "../../src/config/config-schema.js";
import { ConfigError } from "../../src/config/load-config.js";
import { createLogger } from "../../src/logging/logger.js";
import { providers } from "../../src/providers.js";
import { ServiceMetrics } from "../../src/metrics/service-metrics.js";
import type { TlsServer } from "../../src/server/listeners.js";
import { type ConfigReader, Reloader } from "../../src/server/reload.js";
import type { Service } from "../../src/service.js";
import { LogCapture } from "../support/log-capture.js";
import { createTestPki } from "../support/test-pki.js";
import { rawTestConfig, testConfig } from "../support/test-config.js";

/** A service that records whether it was closed; it serves nothing. */
function fakeService(config: ServiceConfig): Service & { closed: boolean } {
  const service = {
    config,
    closed: false,
    invoke: () => Promise.reject(new Error("not served in this test")),
    close: async () => {
      service.closed = true;
    },
  };
  return service;
}

/** A reloader over a fake service, with its logs, metrics and every build it made. */
function reloader(
  running = sameAsRunning(),
  build: (next: ServiceConfig, previous: Service) => Service = (next) => fakeService(next),
  tlsServers: TlsServer[] = [],
) {
  const logs = new LogCapture();
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const builds: { next: ServiceConfig; previous: Service }[] = [];
  const initial = fakeService(running);
  const subject = new Reloader(initial, {
    logger: createLogger({ destination: logs, providers }),
    metrics,
    build: (next, previous) => {
      builds.push({ next, previous });
      return build(next, previous);
    },
    tlsServers: () => tlsServers,
  });
  const reloads = async (result: "success" | "failure") =>
    (await metrics.registry.getSingleMetric("cluster_token_config_reloads_total")?.get())?.values.find((v) => v.labels.result === result)
      ?.value ?? 0;
  return { subject, initial, logs, builds, reloads };
}

/** One raw config per test file: each `rawTestConfig()` names a fresh audit file, a key that cannot change while running. */
const raw = rawTestConfig();
const sameAsRunning = () => testConfig(raw);

const read =
  (config: ServiceConfig): ConfigReader =>
  async () =>
    config;

describe("reload", () => {
  it("applies a valid config: new calls go to the new service, which is handed the one it replaces; the old one closes", async () => {
    const { subject, initial, logs, builds, reloads } = reloader();
    const next = testConfig({ ...raw, clusters: (raw.clusters as unknown[]).slice(0, 1) });
    assert.deepEqual(await subject.reload(read(next)), { applied: true });
    assert.equal(subject.current.config, next);
    assert.equal(builds[0]?.previous, initial, "the next service is built knowing the previous one (its discovery cache)");
    assert.ok(initial.closed);
    assert.equal(await reloads("success"), 1);
    assert.deepEqual(
      logs.records().map((r) => r.msg),
      ["config reloaded"],
    );
  });

  it("refuses every kind of problem the same way: one log line with every problem, one failure, the running service kept", async () => {
    const running = sameAsRunning();
    const tls = { certFile: "/nonexistent/a.crt", keyFile: "/nonexistent/a.key" };
    const tlsRaw = { ...raw, security: { tls, apiKeys: [{ name: "k", sha256: "a".repeat(64) }] } };
    const cases: [string, ConfigReader, RegExp[], ServiceConfig?][] = [
      [
        "an invalid file",
        () => Promise.reject(new ConfigError("/c.yaml", ["clusters[0].id: bad", "YAML: cut short"])),
        [/id: bad/, /cut short/],
      ],
      ["a file that cannot be read", () => Promise.reject(new Error("EACCES somewhere")), [/EACCES/]],
      [
        "fixed keys",
        read(testConfig({ ...raw, listen: { grpc: "127.0.0.1:1", http: "127.0.0.1:2" }, shutdown: { graceSeconds: 1 } })),
        [/^listen cannot change while running/, /^shutdown cannot change while running/],
      ],
      [
        "TLS files that cannot be read",
        read(testConfig(tlsRaw)),
        [/cannot read security\.tls\.certFile \/nonexistent\/a\.crt/, /cannot read security\.tls\.keyFile/],
        testConfig(tlsRaw),
      ],
    ];
    for (const [what, reader, problems, runningConfig] of cases) {
      const { subject, initial, logs, builds, reloads } = reloader(runningConfig ?? running);
      const result = await subject.reload(reader);
      assert.equal(result.applied, false, what);
      const found = result.applied ? [] : result.problems;
      assert.equal(found.length, problems.length, what);
      for (const [i, problem] of problems.entries()) assert.match(found[i] ?? "", problem, what);
      assert.equal(subject.current, initial, what);
      assert.equal(initial.closed, false, what);
      assert.equal(builds.length, 0, `${what}: no service is built for a config that cannot be used`);
      assert.deepEqual(
        logs.records().map((r) => [r.msg, r.problems]),
        [["config reload refused; the running config stays", found]],
        what,
      );
      assert.deepEqual([await reloads("failure"), await reloads("success")], [1, 0], what);
    }
    const failing = reloader(running, () => {
      throw new Error("cannot build");
    });
    assert.deepEqual(await failing.subject.reload(read(sameAsRunning())), { applied: false, problems: ["cannot build"] });
    assert.equal(await failing.reloads("failure"), 1);
  });

  it("rotates the TLS listeners' certificate on success, and refuses the same way when a listener refuses it", async () => {
    const pki = await createTestPki();
    const server = await pki.issue("server", { cn: "cluster-token-service", sans: ["DNS:localhost"], usage: "server" });
    const tlsRaw = {
      ...raw,
      security: { tls: { certFile: server.certFile, keyFile: server.keyFile }, apiKeys: [{ name: "k", sha256: "a".repeat(64) }] },
    };
    const contexts: unknown[] = [];
    const accepting: TlsServer = { setSecureContext: (options) => contexts.push(options) };
    const ok = reloader(testConfig(tlsRaw), undefined, [accepting]);
    assert.deepEqual(await ok.subject.reload(read(testConfig(tlsRaw))), { applied: true });
    assert.deepEqual(contexts, [{ cert: server.cert, key: server.key }]);

    const refusing: TlsServer = {
      setSecureContext: () => {
        throw Object.assign(new Error("no"), { code: "ERR_OSSL_SOMETHING" });
      },
    };
    const built: (Service & { closed: boolean })[] = [];
    const refused = reloader(
      testConfig(tlsRaw),
      (next) => {
        const service = fakeService(next);
        built.push(service);
        return service;
      },
      [refusing],
    );
    assert.deepEqual(await refused.subject.reload(read(testConfig(tlsRaw))), {
      applied: false,
      problems: ["the listeners refused the new TLS files (ERR_OSSL_SOMETHING)"],
    });
    assert.equal(refused.subject.current, refused.initial);
    assert.ok(built[0]?.closed, "the service built for it is closed");
    assert.deepEqual(
      refused.logs.records().map((r) => r.msg),
      ["config reload refused; the running config stays"],
    );
    assert.equal(await refused.reloads("failure"), 1);
  });

  it("runs one reload at a time and folds a burst of requests into one more", async () => {
    const { subject, builds } = reloader();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = subject.reload(async () => {
      await gate;
      return sameAsRunning();
    });
    const burst = Array.from({ length: 10 }, () => subject.reload(read(sameAsRunning())));
    release();
    const results = await Promise.all([first, ...burst]);
    assert.ok(results.every((r) => r.applied));
    assert.equal(builds.length, 2, "the running reload and one for the whole burst");
  });

  it("abandons a reload still reading its file when the server closes, refusing it, and closes the current service", async () => {
    const { subject, initial, builds } = reloader();
    let aborted: AbortSignal | undefined;
    const pending = subject.reload(
      (signal) =>
        new Promise<ServiceConfig>((_, reject) => {
          aborted = signal;
          signal.addEventListener("abort", () => reject(signal.reason));
        }),
    );
    await subject.close();
    assert.equal(aborted?.aborted, true);
    assert.deepEqual(await pending, { applied: false, problems: ["the service is shutting down"] });
    assert.ok(initial.closed);
    assert.equal(builds.length, 0);
    assert.deepEqual(await subject.reload(read(sameAsRunning())), { applied: false, problems: ["the service is shutting down"] });
  });
});
