import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestService, type RunningService } from "../support/running-service.js";

const service = "clustertoken.v1.ClusterTokenService";

/**
 * The Connect listener's answers to what connect-es itself would reject or mishandle:
 * transport rejections with a body that says what to send, no 5xx for any malformed
 * GET, and no answer a cache may keep.
 */
describe("Connect rejections, GET queries and caching", () => {
  let svc: RunningService;
  before(async () => {
    svc = await startTestService();
  });
  after(() => svc.close());

  it("transport rejections (415, 404, 405) have a JSON body that says what to send, and an x-request-id", async () => {
    const cases: [string, RequestInit, number, string, RegExp][] = [
      ["GenerateToken", { method: "POST", body: "{}" }, 415, "UNSUPPORTED_MEDIA_TYPE", /application\/json/],
      [
        "GenerateToken",
        { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        /application\/json/,
      ],
      ["GenerateToken?message=%7B%7D", { method: "GET" }, 415, "UNSUPPORTED_MEDIA_TYPE", /encoding=json/],
      [
        "NoSuchMethod",
        { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
        404,
        "UNKNOWN_METHOD",
        /clustertoken\.v1\.ClusterTokenService/,
      ],
      [
        "GenerateToken",
        { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" },
        405,
        "METHOD_NOT_ALLOWED",
        /use POST/,
      ],
    ];
    for (const [path, init, status, reason, says] of cases) {
      const res = await fetch(`${svc.httpUrl}/${service}/${path}`, init);
      const body = (await res.json()) as { code: string; message: string; details: { debug: { reason: string } }[] };
      assert.equal(res.status, status, path);
      assert.equal(body.details[0]!.debug.reason, reason);
      assert.match(body.message, says);
      assert.match(res.headers.get("x-request-id") ?? "", /^[\w.:-]+$/);
    }
    const elsewhere = await fetch(`${svc.httpUrl}/favicon.ico`);
    assert.deepEqual([elsewhere.status, ((await elsewhere.json()) as { code: string }).code], [404, "unimplemented"]);
  });

  it("a fuzz pass over Connect GET parameters gets no 5xx, and every rejection says why", async () => {
    const values: Record<string, (string | undefined)[]> = {
      encoding: [undefined, "json", "proto", "xml", ""],
      base64: [undefined, "1", "0", ""],
      compression: [undefined, "identity", "gzip", "br", ""],
      connect: [undefined, "v2"],
      message: [undefined, "", "{}", "e30", "%%%", "!!", "\u00ff", '{"clusterId":"demo-eks"}', "CghkZW1vLWVrcw", "CgRkZf_-", "Cg"],
    };
    let combinations = 0;
    const statuses = new Set<number>();
    for (const method of ["GenerateToken", "GetKubeconfig", "ListClusters"]) {
      for (const encoding of values.encoding!)
        for (const base64 of values.base64!)
          for (const compression of values.compression!)
            for (const connect of values.connect!)
              for (const message of values.message!) {
                const query = Object.entries({ encoding, base64, compression, connect, message })
                  .filter(([, v]) => v !== undefined)
                  .map(([k, v]) => `${k}=${k === "message" && v === "%%%" ? v : encodeURIComponent(v!)}`);
                const res = await fetch(`${svc.httpUrl}/${service}/${method}?${query.join("&")}`);
                const text = await res.text();
                combinations++;
                statuses.add(res.status);
                assert.ok(res.status < 500, `${res.status} for ${method}?${query.join("&")}: ${text.slice(0, 200)}`);
                if (res.status !== 200) assert.match(JSON.parse(text).message as string, /\S/, `a reason for ${method}?${query.join("&")}`);
              }
    }
    assert.ok(combinations > 5_000 && statuses.has(200) && statuses.has(400) && statuses.has(415), [...statuses].join(","));
    const gzip = await fetch(
      `${svc.httpUrl}/${service}/GenerateToken?encoding=json&compression=gzip&message=${encodeURIComponent('{"clusterId":"demo-eks"}')}`,
    );
    const body = (await gzip.json()) as { code: string; message: string; details: { debug: { reason: string } }[] };
    assert.deepEqual([gzip.status, body.code, body.details[0]!.debug.reason], [400, "invalid_argument", "MALFORMED_REQUEST"]);
    assert.match(body.message, /accepts no compressed requests/);
  });

  it("every answer that carries a credential, and every other service answer, is Cache-Control: no-store", async () => {
    const json = (message: unknown) => encodeURIComponent(JSON.stringify(message));
    const answers = [
      await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"clusterId":"demo-eks"}',
      }),
      await fetch(`${svc.httpUrl}/${service}/GenerateToken?encoding=json&message=${json({ clusterId: "demo-eks" })}`),
      await fetch(`${svc.httpUrl}/${service}/GetKubeconfig`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"clusterId":"demo-eks"}',
      }),
      await fetch(`${svc.httpUrl}/${service}/GetKubeconfig?encoding=json&message=${json({ clusterId: "demo-eks" })}`),
      await fetch(`${svc.httpUrl}/${service}/ListClusters?encoding=json&message=${json({})}`),
      await fetch(`${svc.httpUrl}/${service}/GenerateToken?encoding=json&message=${json({ clusterId: "nope" })}`),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200, 404],
    );
    for (const answer of answers) assert.equal(answer.headers.get("cache-control"), "no-store", answer.url);
    const grpcWeb = await fetch(`${svc.httpUrl}/${service}/GenerateToken`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: Buffer.concat([Buffer.from([0, 0, 0, 0, 10]), Buffer.from([0x0a, 0x08, ...Buffer.from("demo-eks")])]),
    });
    assert.equal(grpcWeb.headers.get("cache-control"), "no-store");
  });
});
