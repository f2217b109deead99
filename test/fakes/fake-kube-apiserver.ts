import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Verdict } from "./verdict.js";

/** A running fake Kubernetes API server. */
export interface FakeKubeApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** Every bearer token presented, with the verdict, oldest first. */
  readonly presented: { token: string; verdict: Verdict }[];
  close(): Promise<void>;
}

const unauthorized = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "Unauthorized",
  reason: "Unauthorized",
  code: 401,
});

/**
 * A local Kubernetes API server over HTTPS (with a certificate from the test CA)
 * that authenticates every request's bearer token with `authenticate`, a real
 * verifier for the cloud's token scheme and this cluster's identity, and answers
 * `GET /version` like kube-apiserver. Anything else, or a missing or rejected token,
 * is 401 with a Status body, as kube-apiserver answers.
 */
export async function startFakeKubeApiServer(options: {
  cert: Buffer;
  key: Buffer;
  authenticate: (token: string) => Verdict;
}): Promise<FakeKubeApiServer> {
  const presented: { token: string; verdict: Verdict }[] = [];
  const server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const verdict: Verdict = token ? options.authenticate(token) : { ok: false, reason: "no bearer token" };
    if (token) presented.push({ token, verdict });
    const [status, body] = !verdict.ok
      ? [401, unauthorized]
      : req.method === "GET" && req.url === "/version"
        ? [200, JSON.stringify({ major: "1", minor: "31", gitVersion: "v1.31.0-fake", platform: "linux/amd64" })]
        : [404, JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 })];
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    presented,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
