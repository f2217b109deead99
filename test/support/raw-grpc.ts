import { connect as http2Connect } from "node:http2";

/**
 * Sends one raw gRPC request over HTTP/2 (the body exactly as given, frame and all)
 * and resolves with its grpc-status, its x-request-id and how long it took. Unlike a client library it
 * neither validates the frame nor hangs up at a deadline, so the server alone decides.
 */
export function rawGrpcRequest(
  baseUrl: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: string | undefined; ms: number; requestId: string | undefined }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const session = http2Connect(baseUrl);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let status: string | undefined;
    let requestId: string | undefined;
    stream.on("response", (h) => {
      status ??= h["grpc-status"] as string | undefined;
      requestId = h["x-request-id"] as string | undefined;
    });
    stream.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
    stream.on("data", () => {});
    stream.on("close", () => {
      session.close();
      resolve({ status, ms: Date.now() - started, requestId });
    });
    stream.end(body);
  });
}

/** Wraps a message in an uncompressed gRPC length-prefixed frame. */
export function grpcFrame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([header, message]);
}
