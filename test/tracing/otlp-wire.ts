/**
 * An independent reader of OTLP trace exports, written from the protocol's own
 * definitions (opentelemetry-proto `collector/trace/v1/trace_service.proto`,
 * `trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`, and
 * the OTLP/JSON mapping of the OTLP specification), so that the tests check what the
 * exporter really put on the wire rather than trust its own encoder. It reads the
 * protobuf wire format by hand and refuses what the protocol does not allow: a
 * truncated field, a wire type a field cannot have, an id of the wrong length.
 */

/** An attribute value as the tests compare it (int64 values are small here, so numbers). */
export type AttributeValue = string | number | boolean | AttributeValue[];

/** One span of an export, with its resource and scope, in one shape for both encodings. */
export interface ReceivedSpan {
  /** Lower-case hex, as W3C trace context writes ids: 32 digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  /** 16 hex digits, or "" for a root span. */
  parentSpanId: string;
  traceState: string;
  /** The W3C trace flags (the low 8 bits of `Span.flags`). */
  flags: number;
  name: string;
  /** `Span.SpanKind`: 1 internal, 2 server, 3 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  /** `Status.StatusCode`: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: { name: string; version: string };
}

/** `Span.SpanKind` and `Status.StatusCode` values. */
export const spanKind = { internal: 1, server: 2, client: 3 } as const;
export const statusCode = { unset: 0, ok: 1, error: 2 } as const;

/** A field as the wire gives it: its number and its value (varints and fixed64 as bigint, bytes as a Buffer). */
interface Field {
  number: number;
  value: bigint | Buffer;
}

/** Reads every field of one message. */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= buffer.length) throw new Error("truncated varint");
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error("varint longer than 10 bytes");
  };
  const take = (length: number): Buffer => {
    if (at + length > buffer.length) throw new Error("truncated field");
    const slice = buffer.subarray(at, at + length);
    at += length;
    return slice;
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const [number, wireType] = [key >>> 3, key & 7];
    if (number === 0) throw new Error("field number 0");
    if (wireType === 0) out.push({ number, value: varint() });
    else if (wireType === 1) out.push({ number, value: take(8).readBigUInt64LE() });
    else if (wireType === 2) out.push({ number, value: take(Number(varint())) });
    else if (wireType === 5) out.push({ number, value: BigInt(take(4).readUInt32LE()) });
    else throw new Error(`wire type ${wireType} (groups are not proto3)`);
  }
  return out;
}

function bytesOf(field: Field): Buffer {
  if (!Buffer.isBuffer(field.value)) throw new Error(`field ${field.number} is not length-delimited`);
  return field.value;
}
function numberOf(field: Field): bigint {
  if (Buffer.isBuffer(field.value)) throw new Error(`field ${field.number} is length-delimited, not a number`);
  return field.value;
}

function anyValue(buffer: Buffer): AttributeValue {
  for (const f of fields(buffer)) {
    if (f.number === 1) return bytesOf(f).toString("utf8");
    if (f.number === 2) return numberOf(f) !== 0n;
    if (f.number === 3) return Number(BigInt.asIntN(64, numberOf(f)));
    if (f.number === 4) return Buffer.from(new BigUint64Array([numberOf(f)]).buffer).readDoubleLE();
    if (f.number === 5)
      return fields(bytesOf(f))
        .filter((v) => v.number === 1)
        .map((v) => anyValue(bytesOf(v)));
  }
  throw new Error("an AnyValue without a value this reader knows");
}

function keyValues(list: Field[], number: number): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const f of list.filter((x) => x.number === number)) {
    const kv = fields(bytesOf(f));
    const key = kv.find((x) => x.number === 1);
    const value = kv.find((x) => x.number === 2);
    if (!key || !value) throw new Error("a KeyValue without its key or value");
    out[bytesOf(key).toString("utf8")] = anyValue(bytesOf(value));
  }
  return out;
}

function id(bytes: Buffer | undefined, length: number, what: string, optional = false): string {
  if ((bytes === undefined || bytes.length === 0) && optional) return "";
  if (bytes?.length !== length) throw new Error(`${what} of ${bytes?.length ?? 0} bytes, not ${length}`);
  if (bytes.every((b) => b === 0)) throw new Error(`${what} is all zeroes, which is invalid`);
  return bytes.toString("hex");
}

function protobufSpan(buffer: Buffer, resource: ReceivedSpan["resource"], scope: ReceivedSpan["scope"]): ReceivedSpan {
  const f = fields(buffer);
  const one = (n: number) => f.find((x) => x.number === n);
  const text = (n: number) => (one(n) ? bytesOf(one(n)!).toString("utf8") : "");
  const num = (n: number) => (one(n) ? numberOf(one(n)!) : 0n);
  const status = one(15) ? fields(bytesOf(one(15)!)) : [];
  return {
    traceId: id(one(1) && bytesOf(one(1)!), 16, "trace_id"),
    spanId: id(one(2) && bytesOf(one(2)!), 8, "span_id"),
    parentSpanId: id(one(4) && bytesOf(one(4)!), 8, "parent_span_id", true),
    traceState: text(3),
    flags: Number(num(16) & 0xffn),
    name: text(5),
    kind: Number(num(6)),
    startNs: num(7),
    endNs: num(8),
    attributes: keyValues(f, 9),
    status: {
      code: Number(status.find((x) => x.number === 3)?.value ?? 0n),
      message: status.find((x) => x.number === 2) ? bytesOf(status.find((x) => x.number === 2)!).toString("utf8") : "",
    },
    resource,
    scope,
  };
}

/** The spans of an `ExportTraceServiceRequest` in the protobuf encoding (OTLP/HTTP `application/x-protobuf`, OTLP/gRPC). */
export function decodeProtobufExport(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of fields(body).filter((f) => f.number === 1)) {
    const rs = fields(bytesOf(resourceSpans));
    const resourceField = rs.find((f) => f.number === 1);
    const resource = resourceField ? keyValues(fields(bytesOf(resourceField)), 1) : {};
    for (const scopeSpans of rs.filter((f) => f.number === 2)) {
      const ss = fields(bytesOf(scopeSpans));
      const scopeFields = ss.find((f) => f.number === 1) ? fields(bytesOf(ss.find((f) => f.number === 1)!)) : [];
      const scopeText = (n: number) => {
        const field = scopeFields.find((f) => f.number === n);
        return field ? bytesOf(field).toString("utf8") : "";
      };
      const scope = { name: scopeText(1), version: scopeText(2) };
      for (const span of ss.filter((f) => f.number === 2)) spans.push(protobufSpan(bytesOf(span), resource, scope));
    }
  }
  return spans;
}

/* OTLP/JSON: the proto3 JSON mapping, except that ids are hex and enums are integers (the OTLP specification). */

type Json = Record<string, unknown>;
const obj = (value: unknown, what: string): Json => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Json;
};
const list = (value: unknown, what: string): unknown[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  return value;
};
/** An int64/uint64 field: a string of digits or a number, as the proto3 JSON mapping allows. */
const int64 = (value: unknown, what: string): bigint => {
  if (value === undefined) return 0n;
  if ((typeof value === "string" && /^-?\d+$/.test(value)) || (typeof value === "number" && Number.isInteger(value))) return BigInt(value);
  throw new Error(`${what} is not an integer`);
};

function jsonValue(value: Json): AttributeValue {
  if (typeof value.stringValue === "string") return value.stringValue;
  if (typeof value.boolValue === "boolean") return value.boolValue;
  if (value.intValue !== undefined) return Number(int64(value.intValue, "intValue"));
  if (typeof value.doubleValue === "number") return value.doubleValue;
  if (value.arrayValue !== undefined)
    return list(obj(value.arrayValue, "arrayValue").values, "values").map((v) => jsonValue(obj(v, "value")));
  throw new Error("an AnyValue without a value this reader knows");
}

function jsonAttributes(value: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list(value, "attributes").map((v) => obj(v, "KeyValue"))) {
    if (typeof kv.key !== "string") throw new Error("a KeyValue without its key");
    out[kv.key] = jsonValue(obj(kv.value, "value"));
  }
  return out;
}

function jsonId(value: unknown, hexDigits: number, what: string, optional = false): string {
  if ((value === undefined || value === "") && optional) return "";
  if (typeof value !== "string" || !new RegExp(`^[0-9a-fA-F]{${hexDigits}}$`).test(value))
    throw new Error(`${what} is not ${hexDigits} hex digits`);
  return id(Buffer.from(value, "hex"), hexDigits / 2, what);
}

/** The spans of an `ExportTraceServiceRequest` in OTLP/JSON (OTLP/HTTP `application/json`). */
export function decodeJsonExport(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of list(obj(JSON.parse(body.toString("utf8")), "request").resourceSpans, "resourceSpans").map((v) =>
    obj(v, "ResourceSpans"),
  )) {
    const resource = rs.resource === undefined ? {} : jsonAttributes(obj(rs.resource, "resource").attributes);
    for (const ss of list(rs.scopeSpans, "scopeSpans").map((v) => obj(v, "ScopeSpans"))) {
      const scopeJson = ss.scope === undefined ? {} : obj(ss.scope, "scope");
      const scope = { name: String(scopeJson.name ?? ""), version: String(scopeJson.version ?? "") };
      for (const s of list(ss.spans, "spans").map((v) => obj(v, "Span"))) {
        const status = s.status === undefined ? {} : obj(s.status, "status");
        spans.push({
          traceId: jsonId(s.traceId, 32, "traceId"),
          spanId: jsonId(s.spanId, 16, "spanId"),
          parentSpanId: jsonId(s.parentSpanId, 16, "parentSpanId", true),
          traceState: typeof s.traceState === "string" ? s.traceState : "",
          flags: Number(int64(s.flags, "flags") & 0xffn),
          name: String(s.name ?? ""),
          kind: Number(int64(s.kind, "kind")),
          startNs: int64(s.startTimeUnixNano, "startTimeUnixNano"),
          endNs: int64(s.endTimeUnixNano, "endTimeUnixNano"),
          attributes: jsonAttributes(s.attributes),
          status: { code: Number(int64(status.code, "status.code")), message: typeof status.message === "string" ? status.message : "" },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}
