import { get } from "node:http";
import { startFakeEks } from "../fakes/fake-eks.js";
import type { FakeServer } from "../fakes/fake-http-server.js";
import { sample } from "./metric-sample.js";
import { rawTestConfig, testAwsKeys, testCaData } from "./test-config.js";

/**
 * What the lifecycle tests of `cluster-token serve` (metrics and probes, shutdown, live reload) share:
 * a fake EKS whose discovery a test can hold, so that calls stay in flight across a signal, the config
 * that points a cluster at it, and reads of the process's metrics port.
 */

/** GET `url`: status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
    }).on("error", reject);
  });
}

/**
 * Resolves once the server has started `count` calls of `method` in all (by its own
 * `grpc_server_started_total`), so that a test knows they are in flight: concurrent
 * discoveries of one cluster share one request to the cloud, so the fake cloud sees
 * only the first of them.
 */
export async function callsStarted(metricsUrl: string, method: string, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const scrape = (await httpGet(`${metricsUrl}/metrics`)).body;
    const started = sample(scrape, "grpc_server_started_total", { grpc_method: method }) ?? 0;
    if (started >= count) return;
    if (performance.now() > deadline) throw new Error(`${started} of ${count} ${method} calls started within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fake EKS in us-west-2 that knows the test keys and one cluster, `slow`, for the cluster `slow-eks` of {@link slowEksConfig}. */
export function startSlowEks(): Promise<FakeServer> {
  return startFakeEks({
    region: "us-west-2",
    keys: new Map([[testAwsKeys.accessKeyId, { secretAccessKey: testAwsKeys.secretAccessKey }]]),
    clusters: { slow: { endpoint: "https://slow.eks.example.com", caData: testCaData } },
  });
}

/** The test config plus a metrics listener and a cluster whose discovery goes to the fake EKS at `eksUrl`. */
export function slowEksConfig(eksUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const raw = rawTestConfig() as { listen: Record<string, string>; clusters: unknown[] };
  raw.listen.metrics = "127.0.0.1:0";
  raw.listen.health = "127.0.0.1:0";
  raw.clusters.push({
    id: "slow-eks",
    provider: "aws",
    region: "us-west-2",
    name: "slow",
    credentials: "aws-test",
    apiEndpoint: eksUrl,
  });
  return { ...raw, discovery: { cacheTtlSeconds: 0 }, publicUrl: "http://127.0.0.1:1", ...extra };
}
