import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readTracingSettings, TracingEnvError } from "../../src/tracing/tracing-settings.js";

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.example:4318" };

/** The problems `env` is refused with; fails when it is accepted. */
function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    readTracingSettings(env);
  } catch (err) {
    assert.ok(err instanceof TracingEnvError, String(err));
    return err.problems;
  }
  assert.fail("the environment was accepted");
}

describe("tracing settings: off unless configured", () => {
  it("is off without OTEL variables, and with other programs' OTEL variables but no endpoint (even broken ones)", () => {
    assert.equal(readTracingSettings({}), undefined);
    assert.equal(
      readTracingSettings({ OTEL_TRACES_SAMPLER: "nonsense", OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" }),
      undefined,
    );
    assert.equal(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " }), undefined, "an empty variable is unset, as the SDK reads it");
  });

  it("is on with an OTLP endpoint, general or for traces, or with OTEL_TRACES_EXPORTER=otlp alone", () => {
    assert.equal(readTracingSettings(endpoint)?.collector, "http://collector.example:4318");
    const traces = readTracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/v1/traces", ...endpoint });
    assert.equal(traces?.collector, "https://traces.example", "the traces endpoint wins over the general one");
    assert.equal(readTracingSettings({ OTEL_TRACES_EXPORTER: "otlp" })?.collector, "http://localhost:4318", "the spec's default collector");
    assert.equal(
      readTracingSettings({ OTEL_TRACES_EXPORTER: "OTLP", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })?.collector,
      "http://localhost:4317",
    );
  });

  it("is off when OTEL_SDK_DISABLED is true (any case) or OTEL_TRACES_EXPORTER is none, whatever else is set", () => {
    assert.equal(readTracingSettings({ ...endpoint, OTEL_SDK_DISABLED: "TRUE" }), undefined);
    assert.equal(readTracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: "none", OTEL_TRACES_SAMPLER: "nonsense" }), undefined);
    assert.ok(readTracingSettings({ ...endpoint, OTEL_SDK_DISABLED: "false" }), "only true disables");
  });

  it("takes the spec's defaults: OTLP/HTTP protobuf, parentbased_always_on, the batch processor's sizes and delays", () => {
    assert.deepEqual(readTracingSettings(endpoint), {
      protocol: "http/protobuf",
      collector: "http://collector.example:4318",
      sampler: "parentbased_always_on",
      ratio: 1,
      batch: { scheduledDelayMillis: 5000, exportTimeoutMillis: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
  });

  it("reads the protocol (traces first), the sampler and its ratio, and OTEL_BSP_*", () => {
    const settings = readTracingSettings({
      ...endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.01",
      OTEL_BSP_SCHEDULE_DELAY: "0",
      OTEL_BSP_EXPORT_TIMEOUT: "1000",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "100",
    });
    assert.equal(settings?.protocol, "http/json");
    assert.equal(settings?.sampler, "parentbased_traceidratio");
    assert.equal(settings?.ratio, 0.01);
    assert.deepEqual(settings?.batch, { scheduledDelayMillis: 0, exportTimeoutMillis: 1000, maxQueueSize: 100, maxExportBatchSize: 100 });
    assert.equal(
      readTracingSettings({ ...endpoint, OTEL_TRACES_SAMPLER: "always_on", OTEL_TRACES_SAMPLER_ARG: "garbage" })?.ratio,
      1,
      "ignored",
    );
  });

  it("says where spans go by the collector's origin only: no user info, path or query", () => {
    const settings = readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:pa55word@collector.example:4318/prefix?key=k3y" });
    assert.equal(settings?.collector, "https://collector.example:4318");
  });
});

describe("tracing settings: what cannot be used stops the start, naming the variable and never its value", () => {
  it("lists every problem at once", () => {
    const dir = mkdtempSync(join(tmpdir(), "cts-otel-"));
    const problems = problemsOf({
      OTEL_TRACES_EXPORTER: "zipkin",
      OTEL_EXPORTER_OTLP_ENDPOINT: "collector.example:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://collector.example/",
      OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon",
      OTEL_TRACES_SAMPLER: "jaeger_remote",
      OTEL_EXPORTER_OTLP_TIMEOUT: "0",
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "br",
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, "missing.pem"),
      OTEL_BSP_MAX_QUEUE_SIZE: "10",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20",
      OTEL_BSP_SCHEDULE_DELAY: "-1",
    });
    assert.deepEqual(problems, [
      "OTEL_TRACES_EXPORTER: only otlp (or none) is supported",
      "OTEL_EXPORTER_OTLP_PROTOCOL: must be one of http/protobuf, http/json, grpc",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http:// or https:// URL",
      "OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL",
      "OTEL_TRACES_SAMPLER: must be one of parentbased_always_on, parentbased_always_off, parentbased_traceidratio, always_on, always_off, traceidratio",
      "OTEL_EXPORTER_OTLP_TIMEOUT: must be a whole number of at least 1",
      "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: must be gzip or none",
      "OTEL_EXPORTER_OTLP_CERTIFICATE: the file cannot be read",
      "OTEL_BSP_SCHEDULE_DELAY: must be a whole number of at least 0",
      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must not exceed OTEL_BSP_MAX_QUEUE_SIZE",
    ]);
  });

  it("refuses a ratio outside 0..1 for the ratio samplers", () => {
    for (const arg of ["2", "-0.5", "abc", "1.5", "0x1"]) {
      assert.deepEqual(problemsOf({ ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: arg }), [
        "OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1",
      ]);
    }
    for (const arg of ["0", "1", "0.25", ".5", "1.0"]) {
      assert.ok(readTracingSettings({ ...endpoint, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: arg }), arg);
    }
  });

  it("checks headers and resource attributes entry by entry, naming the entry by position and never echoing a value", () => {
    const secret = "s3cr3t-collector-key";
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=ok,${secret}` }, "OTEL_EXPORTER_OTLP_HEADERS: entry 2 of 2 is not key=value"],
      [{ OTEL_EXPORTER_OTLP_HEADERS: `=${secret}` }, "OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 is not key=value"],
      [
        { OTEL_EXPORTER_OTLP_TRACES_HEADERS: `x-api-key=${secret};v2` },
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 1 of 1 has a ';' in its value: write it %3B",
      ],
      [
        { OTEL_EXPORTER_OTLP_HEADERS: `x api key=${secret}` },
        "OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 has a key that is not an HTTP header name",
      ],
      [{ OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${secret}%zz` }, "OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 has a broken percent-encoding"],
      [{ OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=" }, "OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 has an empty value"],
      [{ OTEL_RESOURCE_ATTRIBUTES: `team=a=${secret}` }, "OTEL_RESOURCE_ATTRIBUTES: entry 1 of 1 has a second '=': write it %3D"],
      [{ OTEL_RESOURCE_ATTRIBUTES: `team=${"x".repeat(256)}` }, "OTEL_RESOURCE_ATTRIBUTES: entry 1 of 1 is longer than 255 characters"],
    ];
    for (const [env, problem] of cases) {
      const problems = problemsOf({ ...endpoint, ...env });
      assert.deepEqual(problems, [problem]);
      assert.ok(!new TracingEnvError(problems).message.includes(secret));
    }
    const good = {
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=a%3Db%3Bc, authorization=Basic%20dXNlcjpwYXNz,,",
      OTEL_RESOURCE_ATTRIBUTES: "a=1,b=%3D",
    };
    assert.ok(readTracingSettings({ ...endpoint, ...good }));
  });

  it("accepts TLS files the process can read", () => {
    const file = join(mkdtempSync(join(tmpdir(), "cts-otel-")), "ca.pem");
    writeFileSync(file, "not checked here: the exporter reads it");
    assert.ok(readTracingSettings({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: file }));
  });
});
