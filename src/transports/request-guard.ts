import { fromBinary } from "@bufbuild/protobuf";
import { createContextKey } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

/** Why a request cannot be served as sent: the decoding failure, and a sentence for the caller that echoes nothing of the request. */
export interface MalformedRequest {
  readonly cause: unknown;
  readonly problem?: string;
}

/**
 * Set on a request's context values when it cannot be decoded: an undecodable
 * binary body, or a Connect GET whose query parameters are malformed. The handler
 * then answers INVALID_ARGUMENT (MALFORMED_REQUEST) through the normal error path,
 * where connect-es by itself would answer INTERNAL for undecodable binary and for
 * bad base64 in a GET, and 501 for a compression it does not accept.
 */
export const malformedRequest = createContextKey<MalformedRequest | undefined>(undefined, {
  description: "cluster-token: malformed request",
});

type BinaryKind = "proto" | "grpc-web";

function binaryKind(req: UniversalServerRequest): BinaryKind | undefined {
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
async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ head: Buffer; complete: boolean; rest: AsyncIterator<Uint8Array> }> {
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

/** gRPC-Web: a message frame's flags byte is 0, or 1 when the message is compressed (then Connect judges it). */
const grpcWebCompressedFlag = 1;
const grpcWebFrameHeaderLength = 5;

/**
 * The message of a whole gRPC-Web request body: exactly one data frame, whose
 * length prefix matches the bytes that follow. Undefined for a single compressed
 * frame, which Connect answers as the gRPC spec says; null for anything else
 * (no frame, a truncated one, a trailer or unknown flag, a second frame), which
 * is malformed.
 */
function grpcWebMessage(body: Buffer): Buffer | undefined | null {
  if (body.byteLength < grpcWebFrameHeaderLength || body.byteLength !== grpcWebFrameHeaderLength + body.readUInt32BE(1)) return null;
  if (body[0] === grpcWebCompressedFlag) return undefined;
  return body[0] === 0 ? body.subarray(grpcWebFrameHeaderLength) : null;
}

/**
 * Wraps a Connect universal handler so that a request that cannot be decoded (a
 * binary POST body, a gRPC-Web frame, or a Connect GET with a malformed query)
 * reaches the service as an empty message flagged with {@link malformedRequest}.
 * Bodies over `readMaxBytes`, compressed bodies and anything that is not a single
 * binary message pass through untouched, for Connect to judge.
 */
export function guardDecoding(handler: UniversalHandler, readMaxBytes: number): UniversalHandler {
  const guarded = async (req: UniversalServerRequest) => {
    const { contextValues } = req;
    if (!contextValues) return handler(req);
    if (req.method === "GET") return guardGet(handler, req, contextValues);
    const kind = binaryKind(req);
    if (!kind) return handler(req);
    if (!(Symbol.asyncIterator in Object(req.body))) return handler(req);
    const { head, complete, rest } = await readUpTo(req.body as AsyncIterable<Uint8Array>, readMaxBytes);
    if (!complete) return handler({ ...req, body: replay(head, rest) });
    const message = kind === "proto" ? head : grpcWebMessage(head);
    if (message === undefined) return handler({ ...req, body: replay(head) });
    const flag = (malformed: MalformedRequest) => {
      contextValues.set(malformedRequest, malformed);
      const empty = kind === "proto" ? Buffer.alloc(0) : Buffer.alloc(grpcWebFrameHeaderLength);
      req.header.set("content-length", String(empty.byteLength));
      return handler({ ...req, body: replay(empty) });
    };
    if (message === null) {
      const problem = "the body must be exactly one gRPC-Web message frame (flags 0, then its 4-byte length, then the message)";
      return flag({ cause: new Error(problem), problem });
    }
    try {
      fromBinary(handler.method.input, message);
      return await handler({ ...req, body: replay(head) });
    } catch (err) {
      return flag({ cause: err });
    }
  };
  return Object.assign(guarded, handler);
}

/** A Connect GET parameter's problem that Connect would answer with a 5xx; the rest (encoding, connect) is Connect's to judge. */
function getQueryProblem(query: URLSearchParams): string | undefined {
  if (isCompressed(query.get("compression"))) return "this service accepts no compressed requests: send the GET message uncompressed";
  if (query.get("base64") === "1" && !/^[A-Za-z0-9_\-+/]*={0,2}$/.test(query.get("message") ?? ""))
    return 'the "message" parameter is not base64 (base64=1)';
  return undefined;
}

/**
 * Connect GET carries the message in the query, base64url-encoded when `base64=1`.
 * A malformed query is flagged and stripped of its message, so that Connect decodes
 * an empty one and the service answers INVALID_ARGUMENT.
 */
function guardGet(
  handler: UniversalHandler,
  req: UniversalServerRequest,
  contextValues: NonNullable<UniversalServerRequest["contextValues"]>,
) {
  const url = new URL(req.url);
  const query = url.searchParams;
  const flag = (malformed: MalformedRequest) => {
    contextValues.set(malformedRequest, malformed);
    for (const name of ["message", "base64", "compression"]) query.delete(name);
    if (query.get("encoding") === "json") query.set("message", "{}");
    return handler({ ...req, url: url.toString() });
  };
  const problem = getQueryProblem(query);
  if (problem) return flag({ cause: new Error(problem), problem });
  if (query.get("encoding") !== "proto") return handler(req);
  const message = query.get("message") ?? "";
  const bytes = query.get("base64") === "1" ? Buffer.from(message, "base64url") : Buffer.from(message, "utf8");
  try {
    fromBinary(handler.method.input, bytes);
    return handler(req);
  } catch (err) {
    return flag({ cause: err });
  }
}
