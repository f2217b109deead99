import { fromBinary } from "@bufbuild/protobuf";
import { createContextKey } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

/**
 * Set on a request's context values when its binary body could not be decoded. The
 * handler then answers INVALID_ARGUMENT through the normal error path, where
 * connect-es by itself would answer INTERNAL for undecodable binary (it does so
 * for `application/proto` and gRPC-Web, and INVALID_ARGUMENT only for JSON).
 */
export const undecodableBody = createContextKey<unknown>(undefined, { description: "cluster-token: undecodable binary request body" });

type BinaryKind = "proto" | "grpc-web" | "proto-get";

function binaryKind(req: UniversalServerRequest): BinaryKind | undefined {
  if (req.method === "GET") {
    const query = new URL(req.url).searchParams;
    return query.get("encoding") === "proto" && !isCompressed(query.get("compression")) ? "proto-get" : undefined;
  }
  if (req.method !== "POST") return undefined;
  const contentType = req.header.get("content-type") ?? "";
  if (/^application\/proto(?:;|$)/i.test(contentType) && !isCompressed(req.header.get("content-encoding"))) return "proto";
  if (/^application\/grpc-web(?:\+proto)?(?:;|$)/i.test(contentType) && !isCompressed(req.header.get("grpc-encoding"))) return "grpc-web";
  return undefined;
}

function isCompressed(encoding: string | null): boolean {
  return encoding !== null && encoding !== "identity";
}

/** Reads at most `limit` bytes; `rest` yields what was not read, so the body can be replayed. */
async function readUpTo(body: AsyncIterable<Uint8Array>, limit: number): Promise<{ head: Buffer; complete: boolean; rest: AsyncIterator<Uint8Array> }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const rest = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await rest.next();
    if (next.done) return { head: Buffer.concat(chunks), complete: true, rest };
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) return { head: Buffer.concat(chunks), complete: false, rest };
  }
}

async function* replay(head: Uint8Array, rest?: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield head;
  if (!rest) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/** The message of a single uncompressed gRPC-Web data frame, or undefined when the body is anything else. */
function grpcWebMessage(body: Buffer): Buffer | undefined {
  if (body.byteLength < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  return body.byteLength === 5 + length ? body.subarray(5) : undefined;
}

/**
 * Wraps a Connect universal handler so that an undecodable binary request (a POST
 * body, a gRPC-Web frame or a Connect GET `message`) reaches the service as an
 * empty message flagged with {@link undecodableBody}. Bodies
 * over `readMaxBytes`, compressed bodies and anything that is not a single binary
 * message pass through untouched, for Connect to judge.
 */
export function guardBinaryDecoding(handler: UniversalHandler, readMaxBytes: number): UniversalHandler {
  const guarded = async (req: UniversalServerRequest) => {
    const kind = binaryKind(req);
    if (!kind || !req.contextValues) return handler(req);
    if (kind === "proto-get") return guardGet(handler, req);
    if (!(Symbol.asyncIterator in Object(req.body))) return handler(req);
    const { head, complete, rest } = await readUpTo(req.body as AsyncIterable<Uint8Array>, readMaxBytes);
    if (!complete) return handler({ ...req, body: replay(head, rest) });
    const message = kind === "proto" ? head : grpcWebMessage(head);
    if (message === undefined) return handler({ ...req, body: replay(head) });
    try {
      fromBinary(handler.method.input, message);
      return await handler({ ...req, body: replay(head) });
    } catch (err) {
      req.contextValues.set(undecodableBody, err);
      const empty = kind === "proto" ? Buffer.alloc(0) : Buffer.alloc(5);
      req.header.set("content-length", String(empty.byteLength));
      return handler({ ...req, body: replay(empty) });
    }
  };
  return Object.assign(guarded, handler);
}

/** Connect GET carries the message in the query, base64url-encoded when `base64=1`. */
function guardGet(handler: UniversalHandler, req: UniversalServerRequest) {
  const url = new URL(req.url);
  const message = url.searchParams.get("message") ?? "";
  const bytes = url.searchParams.get("base64") === "1" ? Buffer.from(message, "base64url") : Buffer.from(message, "utf8");
  try {
    fromBinary(handler.method.input, bytes);
    return handler(req);
  } catch (err) {
    req.contextValues!.set(undecodableBody, err);
    url.searchParams.delete("message");
    url.searchParams.delete("base64");
    return handler({ ...req, url: url.toString() });
  }
}
