import { EventEmitter } from "node:events";
import { gunzipSync } from "node:zlib";
import * as grpc from "@grpc/grpc-js";
import { type FakeRequest, type FakeServer, startFakeServer } from "../fakes/fake-http-server.js";
import { decodeJsonExport, decodeProtobufExport, type ReceivedSpan } from "./otlp-wire.js";

/** The OTLP/HTTP path of trace exports. */
export const otlpTracesPath = "/v1/traces";
/** The OTLP/gRPC method of trace exports. */
export const otlpTraceExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/** One export as the receiver got it. */
export interface ReceivedExport {
  protocol: "http/protobuf" | "http/json" | "grpc";
  /** Request headers (gRPC metadata), lower-case names. */
  headers: Record<string, string>;
  /** The body as it arrived (compressed, if it was), for scanning. */
  raw: Buffer;
  spans: ReceivedSpan[];
}

/**
 * A local OTLP trace collector that decodes for real (`otlp-wire.ts`): OTLP/HTTP with
 * protobuf or JSON bodies, gzip or not, at {@link otlpTracesPath}, and OTLP/gRPC. It
 * refuses, with the status a collector sends, what the protocol does not allow (a
 * wrong path or method, an unknown content type or encoding, a body that does not
 * decode), and records each refusal in `problems`, so that a test fails rather than
 * pass on spans it never saw. Faults and holds come from the fake HTTP server under it.
 */
export interface OtlpReceiver {
  /** The OTLP/HTTP side: its `url` is an `OTEL_EXPORTER_OTLP_ENDPOINT`; `fault`, `received` and `release` as every fake has. */
  readonly http: FakeServer;
  /** The OTLP/gRPC side, as an `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://127.0.0.1:PORT`). */
  readonly grpcUrl: string;
  readonly exports: ReceivedExport[];
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Requests refused, and why. */
  readonly problems: string[];
  /** Resolves with every span so far once `match` holds for them; rejects after `timeoutMs`, saying what did arrive. */
  waitForSpans(match: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function decodeHttp(req: FakeRequest): ReceivedExport {
  if (req.method !== "POST") throw new Refusal(405, `${req.method} is not how OTLP/HTTP exports`);
  if (req.url.pathname !== otlpTracesPath) throw new Refusal(404, `${req.url.pathname} is not ${otlpTracesPath}`);
  const encoding = req.headers["content-encoding"] ?? "identity";
  if (encoding !== "gzip" && encoding !== "identity") throw new Refusal(415, `content-encoding ${encoding}`);
  const body = encoding === "gzip" ? gunzipSync(req.body) : req.body;
  const type = req.headers["content-type"]?.split(";")[0]?.trim();
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v ?? ""]));
  if (type === "application/x-protobuf") return { protocol: "http/protobuf", headers, raw: req.body, spans: decodeProtobufExport(body) };
  if (type === "application/json") return { protocol: "http/json", headers, raw: req.body, spans: decodeJsonExport(body) };
  throw new Refusal(415, `content-type ${type}`);
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the receiver on free loopback ports. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const problems: string[] = [];
  const arrivals = new EventEmitter();
  const accept = (received: ReceivedExport) => {
    exports.push(received);
    arrivals.emit("export");
  };
  const http = await startFakeServer((req) => {
    try {
      const received = decodeHttp(req);
      accept(received);
      // An empty ExportTraceServiceResponse: full success.
      return received.protocol === "http/json"
        ? { status: 200, body: "{}", headers: { "content-type": "application/json" } }
        : { status: 200, body: Buffer.alloc(0), headers: { "content-type": "application/x-protobuf" } };
    } catch (err) {
      problems.push(`OTLP/HTTP: ${(err as Error).message}`);
      return { status: err instanceof Refusal ? err.status : 400, body: (err as Error).message };
    }
  });
  const grpcServer = new grpc.Server();
  const identity = (buffer: Buffer) => buffer;
  grpcServer.addService(
    {
      Export: {
        path: otlpTraceExportMethod,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        try {
          const headers = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
          accept({ protocol: "grpc", headers, raw: call.request, spans: decodeProtobufExport(call.request) });
          callback(null, Buffer.alloc(0));
        } catch (err) {
          problems.push(`OTLP/gRPC: ${(err as Error).message}`);
          callback({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
        }
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const spans = () => exports.flatMap((e) => e.spans);
  return {
    http,
    grpcUrl: `http://127.0.0.1:${port}`,
    exports,
    spans,
    problems,
    waitForSpans(match, timeoutMs = 15_000) {
      if (match(spans())) return Promise.resolve(spans());
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!match(spans())) return;
          settle();
          resolve(spans());
        };
        const timer = setTimeout(() => {
          settle();
          const names = spans().map((s) => `${s.name} ${s.spanId}←${s.parentSpanId || "root"}`);
          reject(
            new Error(`the spans awaited did not arrive in ${timeoutMs} ms; got [${names.join(", ")}]; refused: [${problems.join("; ")}]`),
          );
        }, timeoutMs);
        const settle = () => {
          clearTimeout(timer);
          arrivals.off("export", check);
        };
        arrivals.on("export", check);
      });
    },
    async close() {
      grpcServer.forceShutdown();
      await http.close();
    },
  };
}
