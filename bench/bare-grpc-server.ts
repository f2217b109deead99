/**
 * The floor of the latency figures: a bare `node:http2` server, in a process of its
 * own, that answers every request with the bytes grpc-js answers Health/Check with
 * (a SERVING HealthCheckResponse and status OK) and does nothing else: no grpc-js, no pipeline, no log line. What h2load
 * measures for it at a paced rate is what the machine and the load generator's
 * pacing add to any call.
 *
 * Run as `node bare-grpc-server.js [certFile keyFile]`; prints its port, then serves
 * until it is sent SIGTERM.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createSecureServer, createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { fileURLToPath } from "node:url";

/** A running bare server: its base URL for h2load, and how to stop it. */
export interface BareServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts the bare server as its own process, with TLS when `tls` names a certificate and key. */
export function startBareGrpcServer(tls?: { certFile: string; keyFile: string }): Promise<BareServer> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...(tls ? [tls.certFile, tls.keyFile] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", (port: Buffer) =>
      resolve({
        url: `${tls ? "https" : "http"}://127.0.0.1:${Number(port)}`,
        stop: () => {
          const exited = new Promise<void>((done) => child.once("exit", () => done()));
          child.kill("SIGTERM");
          return exited;
        },
      }),
    );
    child.once("exit", (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
}

/** The gRPC frame of a HealthCheckResponse with status SERVING: no compression, length 2, field 1 = 1. */
const okMessage = Buffer.from([0, 0, 0, 0, 2, 8, 1]);

function answer(stream: ServerHttp2Stream): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(okMessage);
  stream.resume();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [certFile, keyFile] = process.argv.slice(2);
  const server: Http2Server =
    certFile && keyFile
      ? createSecureServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), allowHTTP1: false })
      : createServer();
  server.on("stream", answer);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(String(typeof address === "object" && address ? address.port : 0));
  });
  process.once("SIGTERM", () => process.exit(0));
}
