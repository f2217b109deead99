import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterTokenService } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import { cliPath, repoRoot } from "../support/paths.js";
import { startServeProcess, writeConfigFile } from "../support/serve-process.js";
import { rawTestConfig, testAwsEnv } from "../support/test-config.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { collectorKey, stop } from "./traced-service.js";

describe("tracing on the real process: a failing or hung collector, bad settings, and nothing loaded when off", () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it("logs the spans a failing collector drops, with the cause and without the collector's key", async () => {
    receiver.http.fault = { status: 400, body: "bad batch" };
    const svc = await startServeProcess(rawTestConfig(), {
      env: {
        ...testAwsEnv,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.http.url,
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${collectorKey}`,
        OTEL_BSP_SCHEDULE_DELAY: "20",
      },
    });
    try {
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      await client.generateToken({ clusterId: "demo-eks" });
      const warning = await svc.waitForLine((l) => l.msg === "trace export failed; its spans are dropped");
      assert.equal(warning.level, "warn");
      assert.ok(Number(warning.spans) >= 1, "how many spans the failed export dropped");
      assert.ok(warning.error, "the cause, scrubbed");
      assert.ok(!svc.stdout().includes(collectorKey));
    } finally {
      receiver.http.fault = undefined;
      await stop(svc);
    }
  });

  it("keeps answering while the collector hangs, and exits on SIGTERM within its bound, dropping what it could not send", async () => {
    receiver.http.fault = { hang: true };
    const raw = { ...rawTestConfig(), shutdown: { drainDelaySeconds: 0, graceSeconds: 1 } };
    // A minute of export timeout: only the shutdown's own bound (and ending the connection) lets the process go sooner.
    const env = {
      ...testAwsEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.http.url,
      OTEL_BSP_SCHEDULE_DELAY: "20",
      OTEL_EXPORTER_OTLP_TIMEOUT: "60000",
    };
    const svc = await startServeProcess(raw, { env });
    try {
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      const before = receiver.http.requests.length;
      await client.generateToken({ clusterId: "demo-eks" });
      await receiver.http.received(before + 1);
      for (let i = 0; i < 20; i++) await client.generateToken({ clusterId: "demo-eks" });
      const from = svc.lines().length;
      svc.child.kill("SIGTERM");
      const exited = await Promise.race([
        svc.exited(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000).unref()),
      ]);
      assert.deepEqual(exited, { code: 0, signal: null }, "exited, and well before the export's own timeout");
      assert.ok(
        svc
          .lines()
          .slice(from)
          .some((l) => l.msg === "spans still queued at exit were not exported in time; dropped"),
      );
      assert.equal(svc.lines().at(-1)?.msg, "stopped");
    } finally {
      receiver.http.fault = undefined;
      svc.child.kill("SIGKILL");
    }
  });

  it("refuses to start on OTEL variables it cannot use: exit code 2, each named, no value echoed", async () => {
    const configFile = await writeConfigFile(rawTestConfig());
    const child = spawn(process.execPath, [cliPath, "serve", "--config", configFile], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        ...testAwsEnv,
        OTEL_EXPORTER_OTLP_ENDPOINT: "collector.example:4318",
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${collectorKey}`,
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "5",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 2);
    assert.equal(stderr, "", "the failure is a JSON line, as every line is");
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level?: string; msg?: string; problems?: string[] });
    const failure = lines.find((line) => line.level === "fatal");
    assert.match(String(failure?.msg), /^cannot start: the OpenTelemetry environment cannot be used/);
    const problems = (failure?.problems ?? []).join("\n");
    assert.match(problems, /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:\/\/ or https:\/\/ URL/);
    assert.match(problems, /OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/);
    assert.ok(!stdout.includes(collectorKey) && !stdout.includes("collector.example"), stdout);
    assert.ok(!stdout.includes('"serving"'), "nothing started");
  });

  it("loads no OpenTelemetry SDK module with tracing off (and does with it on, so the check can tell)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cts-modules-"));
    const preload = join(dir, "list-modules.cjs");
    await writeFile(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(process.env.CTS_MODULES_FILE, Object.keys(require.cache).join("\\n")));\n`,
    );
    const sdk = /node_modules\/@opentelemetry\/(sdk-trace|core|resources|context-async-hooks|exporter-trace-otlp-[a-z]+|otlp-[a-z-]+)\//;
    const loaded = async (otel: Record<string, string>) => {
      const file = join(dir, `modules-${Object.keys(otel).length}`);
      const svc = await startServeProcess(rawTestConfig(), {
        env: { ...testAwsEnv, ...otel, NODE_OPTIONS: `--require ${preload}`, CTS_MODULES_FILE: file },
      });
      const client = createClient(ClusterTokenService, createGrpcTransport({ baseUrl: `http://${svc.grpc}` }));
      await client.generateToken({ clusterId: "demo-eks" }).catch((e: unknown) => assert.fail(ConnectError.from(e).message));
      assert.equal((await stop(svc)).code, 0);
      return (await readFile(file, "utf8")).split("\n").filter((path) => sdk.test(path));
    };
    assert.deepEqual(await loaded({}), [], "tracing off");
    assert.ok((await loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.http.url })).length > 10, "tracing on loads the SDK");
  });
});
