import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { constants, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { describe, it } from "node:test";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { GrpcStreamGuard, type GrpcStreamGuardOptions } from "../../src/transports/grpc-stream-guard.js";
import { FakeClock } from "../support/fake-clock.js";

class FakeSession extends EventEmitter {
  closed = false;
  destroyed = false;
  /** Every SETTINGS_MAX_CONCURRENT_STREAMS sent, in order. */
  readonly advertised: number[] = [];
  goawayCode: number | undefined;
  /** Acknowledgements the client owes. */
  private readonly owed: (() => void)[] = [];
  settings(settings: { maxConcurrentStreams: number }, acknowledged: () => void): void {
    this.advertised.push(settings.maxConcurrentStreams);
    this.owed.push(acknowledged);
  }
  goaway(code: number): void {
    this.goawayCode = code;
  }
  close(): void {
    this.closed = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** What the guard uses of a server stream: its state, respond, close (and the close event Node emits after it). */
class FakeStream extends EventEmitter {
  headersSent = false;
  closed = false;
  destroyed = false;
  response: OutgoingHttpHeaders | undefined;
  resetCode: number | undefined;
  constructor(readonly session: FakeSession) {
    super();
  }
  respond(headers: OutgoingHttpHeaders): void {
    this.headersSent = true;
    this.response = headers;
  }
  close(code: number): void {
    this.closed = true;
    this.resetCode = code;
    queueMicrotask(() => this.emit("close"));
  }
}

/** The ErrorInfo reason of a trailers-only response. */
function reasonOf(response: OutgoingHttpHeaders | undefined): string | undefined {
  const headers = new Headers(
    Object.entries(response ?? {})
      .filter(([name]) => !name.startsWith(":"))
      .map(([name, value]) => [name, String(value)]),
  );
  return findTrailerError(headers)?.findDetails(ErrorInfoSchema)[0]?.reason;
}

/** The guard resets an answered stream on the next turn of the event loop (see TrailersOnlyAnswer.sendAndReset). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function setUp(options: Partial<GrpcStreamGuardOptions> = {}) {
  const clock = new FakeClock();
  const guard = new GrpcStreamGuard({
    maxCallsInFlight: 3,
    firstMessageTimeoutMs: 1_000,
    longLivedMs: 30_000,
    maxHeaderBytes: 1_024,
    maxStreamsPerConnection: 100,
    clock,
    ...options,
  });
  const session = new FakeSession();
  /** A stream whose headers arrive now; `handedOn` says whether the guard passed it to grpc-js. */
  const open = (headers: IncomingHttpHeaders = {}, on = session) => {
    const stream = new FakeStream(on);
    let handedOn = false;
    guard.filter(stream as unknown as ServerHttp2Stream, { ":path": "/x.Y/Z", "x-request-id": "req-1", ...headers }, () => {
      handedOn = true;
    });
    return { stream, handedOn };
  };
  /**
   * grpc-js's interceptor chain for `stream`, with a unary or streaming method: a
   * message as grpc-js delivers it, and the client's end of the stream as Node
   * reports it ('end').
   */
  const intercept = (stream: FakeStream, requestStream = false) => {
    let listener: grpc.ServerListener | undefined;
    const base = { stream, start: (l: grpc.ServerListener) => (listener = l) } as unknown as grpc.ServerInterceptingCallInterface;
    const call = guard.interceptor({ requestStream } as grpc.ServerMethodDefinition<unknown, unknown>, base);
    call.start({ onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveHalfClose() {}, onCancel() {} });
    return { call, base, message: () => listener?.onReceiveMessage?.({}, () => {}), halfClose: () => stream.emit("end") };
  };
  return { clock, guard, session, open, intercept };
}

describe("GrpcStreamGuard", () => {
  it("answers DEADLINE_EXCEEDED and resets a stream whose request has not arrived by the deadline", async () => {
    const { clock, guard, open } = setUp();
    const { stream, handedOn } = open();
    assert.equal(handedOn, true);
    clock.advance(999);
    guard.closeExpired();
    assert.equal(stream.closed, false);
    clock.advance(1);
    guard.closeExpired();
    assert.equal(stream.closed, false, "answered first; reset on the next turn, once the answer is written");
    await nextTurn();
    assert.equal(stream.response?.["grpc-status"], String(grpc.status.DEADLINE_EXCEEDED));
    assert.equal(reasonOf(stream.response), "DEADLINE_EXCEEDED");
    assert.equal(stream.response?.["x-request-id"], "req-1", "the caller's request id, as on every answer");
    assert.equal(stream.resetCode, constants.NGHTTP2_NO_ERROR, "the response is complete: stop sending");
    assert.equal(guard.totals.timedOut, 1);
  });

  it("stops the clock once the request arrives: the half-close of a unary call, the first message of a streaming one", () => {
    const { clock, guard, open, intercept } = setUp();
    const unary = open().stream;
    const streaming = open().stream;
    const unaryCall = intercept(unary);
    const streamingCall = intercept(streaming, true);
    unaryCall.message();
    streamingCall.message();
    unaryCall.halfClose();
    assert.equal(unaryCall.call, unaryCall.base, "a unary call gets no interceptor layer of its own");
    clock.advance(5_000);
    guard.closeExpired();
    assert.deepEqual([unary.closed, streaming.closed], [false, false]);
    assert.equal(guard.size, 2, "still held: calls in flight count until their streams close");
  });

  it("a unary call's message without its end is not its request", async () => {
    const { clock, guard, open, intercept } = setUp();
    const { stream } = open();
    intercept(stream).message();
    clock.advance(1_000);
    guard.closeExpired();
    await nextTurn();
    assert.equal(stream.closed, true);
  });

  it("at the limit, resets the oldest stream still waiting for its request and admits the newcomer", async () => {
    const { guard, open, intercept } = setUp();
    const first = open().stream;
    const second = open().stream;
    const third = open().stream;
    intercept(first).halfClose();
    const newcomer = open();
    assert.equal(newcomer.handedOn, true);
    await nextTurn();
    assert.deepEqual([first.closed, second.closed, third.closed], [false, true, false]);
    assert.equal(second.response?.["grpc-status"], String(grpc.status.RESOURCE_EXHAUSTED));
    assert.equal(reasonOf(second.response), "TOO_MANY_CALLS");
    assert.equal(guard.totals.evicted, 1);
  });

  it("refuses a newcomer RESOURCE_EXHAUSTED, before grpc-js sees it, when every stream held has sent its request", async () => {
    const { guard, open, intercept } = setUp();
    for (let i = 0; i < 3; i++) intercept(open().stream).halfClose();
    const { stream, handedOn } = open();
    assert.equal(handedOn, false);
    assert.equal(reasonOf(stream.response), "TOO_MANY_CALLS");
    await nextTurn();
    assert.equal(stream.resetCode, constants.NGHTTP2_NO_ERROR);
    assert.equal(guard.totals.refused, 1);
  });

  it("lets a stream past longLivedMs (a watch) yield its place, with CANCEL once its response has begun", () => {
    const { clock, open, intercept } = setUp();
    const watch = open().stream;
    intercept(watch).halfClose();
    watch.headersSent = true;
    clock.advance(30_001);
    for (let i = 0; i < 2; i++) intercept(open().stream).halfClose();
    const newcomer = open();
    assert.equal(newcomer.handedOn, true);
    assert.equal(watch.resetCode, constants.NGHTTP2_CANCEL);
  });

  it("closes a connection with GOAWAY ENHANCE_YOUR_CALM once it has had maxStreamsPerConnection streams reset without a request", () => {
    const { clock, guard, session, open } = setUp({ maxCallsInFlight: 10, maxStreamsPerConnection: 3 });
    const other = new FakeSession();
    for (let i = 0; i < 2; i++) open();
    open({}, other);
    clock.advance(1_000);
    guard.closeExpired();
    assert.equal(session.closed, false, "two resets so far");
    open();
    clock.advance(1_000);
    guard.closeExpired();
    assert.deepEqual([session.goawayCode, session.closed], [constants.NGHTTP2_ENHANCE_YOUR_CALM, true]);
    assert.equal(other.closed, false, "the other connection had one");
    assert.equal(guard.totals.connectionsClosed, 1);
  });

  it("halves the streams a connection may open for each of its streams reset without a request, and gives one back per request", () => {
    const { clock, guard, session, open, intercept } = setUp({ maxCallsInFlight: 10, maxStreamsPerConnection: 8 });
    const other = new FakeSession();
    const s = (of: FakeSession) => of as unknown as Http2Session;
    for (let i = 0; i < 2; i++) open();
    intercept(open({}, other).stream).halfClose();
    clock.advance(1_000);
    guard.closeExpired();
    assert.equal(guard.streamsAllowed(s(session)), 2, "8, halved twice");
    assert.deepEqual(session.advertised, [4], "the second waits for the client to acknowledge the first");
    assert.equal(guard.streamsAllowed(s(other)), 8, "its request arrived: untouched");
    assert.deepEqual(other.advertised, []);
    intercept(open().stream).halfClose();
    assert.equal(guard.streamsAllowed(s(session)), 3);
  });

  it("resets a stream whose header list is over the limit with ENHANCE_YOUR_CALM, before grpc-js sees it", () => {
    const { guard, open } = setUp();
    const { stream, handedOn } = open({ "x-big": "a".repeat(1_000) });
    assert.equal(handedOn, false);
    assert.equal(stream.resetCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    assert.ok(stream.listenerCount("error") > 0, "a reset with an error code emits error, which must not end the process");
    assert.equal(guard.totals.oversizedHeaders, 1);
    assert.equal(open({ "x-many": Array.from({ length: 30 }, () => "v") }).handedOn, false, "repeated fields count too");
  });

  it("forgets a stream once it closes", async () => {
    const { clock, guard, open } = setUp();
    const { stream } = open();
    stream.close(constants.NGHTTP2_CANCEL);
    await nextTurn();
    assert.equal(guard.size, 0);
    clock.advance(5_000);
    guard.closeExpired();
    assert.equal(guard.totals.timedOut, 0);
  });
});
