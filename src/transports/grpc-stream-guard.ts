import { constants, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { type Clock, systemClock } from "../common/clock.js";
import { ServiceError } from "../errors/service-error.js";
import { type ArrivalEntry, ArrivalList } from "./arrival-list.js";
import { resetStream, TrailersOnlyAnswer } from "./grpc-answers.js";
import type { GrpcStreamFilter } from "./grpc-stream-filter.js";
import { GrpcStreamCredit } from "./grpc-stream-credit.js";
import { OldestFirstTimer } from "./oldest-first-timer.js";
import { requestIdHeader } from "./request-id.js";

/** Options of {@link GrpcStreamGuard}. */
export interface GrpcStreamGuardOptions {
  /** The most streams held at once on the port (`limits.maxCallsInFlight`). */
  maxCallsInFlight: number;
  /** How long after its headers a stream may wait for its request (`limits.firstMessageTimeoutSeconds`). */
  firstMessageTimeoutMs: number;
  /** Past this age a stream yields its place to a new one when the port is full; no unary call lives that long (`limits.maxCallSeconds`). */
  longLivedMs: number;
  /** The largest request header list, counted as HTTP/2 counts it (`limits.maxHeaderBytes`). */
  maxHeaderBytes: number;
  /**
   * The streams a connection may have open at once (`limits.maxStreamsPerConnection`), as the
   * server's SETTINGS say; a connection that has had this many streams reset without a request is closed.
   */
  maxStreamsPerConnection: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/** What the guard refused or reset: running totals, for metrics and tests. */
export interface GrpcStreamGuardTotals {
  /** Reset because their request had not arrived by the first-message deadline. */
  timedOut: number;
  /** Reset to make room for a newer stream when the port was full. */
  evicted: number;
  /** Refused on arrival: the port was full of calls that had sent their request. */
  refused: number;
  /** Refused on arrival: their header list was over the limit. */
  oversizedHeaders: number;
  /** Connections closed for too many streams reset without a request. */
  connectionsClosed: number;
}

class Stream {
  /** Its place among the streams held; undefined once it is not held. */
  held: ArrivalEntry<Stream> | undefined = undefined;
  /** Its place among those waiting for their request; undefined once the request has arrived. */
  waiting: ArrivalEntry<Stream> | undefined = undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly requestId: string | string[] | undefined,
    readonly since: number,
  ) {}
}

/** Where a stream keeps its {@link Stream}, for the interceptor (a property, not a map: see arrival-list.ts). */
const heldKey = Symbol("cluster-token held stream");
type GuardedStream = ServerHttp2Stream & { [heldKey]?: Stream };

/** RFC 9113 §6.5.2: a header list's size is its names and values plus 32 octets per field. */
const fieldOverhead = 32;

function headerListBytes(headers: IncomingHttpHeaders): number {
  let total = 0;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === "string") total += name.length + value.length + fieldOverhead;
    else if (value !== undefined) for (const each of value) total += name.length + each.length + fieldOverhead;
  }
  return total;
}

/**
 * Bounds what a gRPC port holds for streams that have not been authenticated yet:
 * authentication, the rate limit and the call's own deadline all start only once a
 * request has arrived, so without this, headers alone would hold memory for ever.
 * One guard per port (the health port has its own, so that a flood on the service
 * port cannot starve the kubelet's probes).
 *
 * 1. A stream whose request (its first message; for a unary method, the message and
 *    its end) has not arrived `firstMessageTimeoutMs` after its headers is answered
 *    DEADLINE_EXCEEDED and reset.
 * 2. At `maxCallsInFlight` streams, a new one resets the oldest stream still waiting
 *    for its request (RESOURCE_EXHAUSTED, `TOO_MANY_CALLS`), else the oldest one
 *    past `longLivedMs` (a health watch, a reflection stream); if there is none, the
 *    newcomer gets that answer, before grpc-js sets up a call for it.
 * 3. Each stream reset without a request (1 or 2) halves what its connection may
 *    open ({@link GrpcStreamCredit}), so that a flood cannot fill the slot again, and
 *    a connection with `maxStreamsPerConnection` such resets gets GOAWAY
 *    ENHANCE_YOUR_CALM: a well-behaved client sends its request with its headers.
 * 4. A stream whose header list is over `maxHeaderBytes` is reset with
 *    ENHANCE_YOUR_CALM, as Node resets one with too many fields; gRPC clients
 *    report RESOURCE_EXHAUSTED.
 *
 * A stream grpc-js answers by itself (an unknown path, a wrong content-type) is
 * held too, but not for long: Node resets a server stream that has answered
 * without reading anything, at once.
 *
 * {@link filter} sees every stream (install it with `filterGrpcStreams`);
 * {@link interceptor} (the server's first interceptor) reports when a request has
 * arrived. Every operation is O(1); one timer serves the port.
 */
export class GrpcStreamGuard {
  readonly totals: GrpcStreamGuardTotals = { timedOut: 0, evicted: 0, refused: 0, oversizedHeaders: 0, connectionsClosed: 0 };
  private readonly clock: Clock;
  /** Every stream held, in arrival order. */
  private readonly open = new ArrivalList<Stream>();
  /** Those still waiting for their request, in arrival order: the first is the first to expire. */
  private readonly waiting = new ArrivalList<Stream>();
  /** What each connection may open, lowered by its streams reset without a request. */
  private readonly credit: GrpcStreamCredit;
  private readonly tooManyCalls: TrailersOnlyAnswer;
  private readonly noRequest: TrailersOnlyAnswer;
  private readonly timer: OldestFirstTimer;

  constructor(private readonly options: GrpcStreamGuardOptions) {
    this.clock = options.clock ?? systemClock;
    this.credit = new GrpcStreamCredit({ maxStreams: options.maxStreamsPerConnection, clock: this.clock });
    this.timer = new OldestFirstTimer(this.clock, () => this.closeExpired());
    this.tooManyCalls = new TrailersOnlyAnswer(
      new ServiceError({
        reason: "TOO_MANY_CALLS",
        message: `this port holds at most ${options.maxCallsInFlight} calls at once (limits.maxCallsInFlight); retry with backoff`,
      }),
    );
    this.noRequest = new TrailersOnlyAnswer(
      new ServiceError({
        reason: "DEADLINE_EXCEEDED",
        message: `no request arrived within ${options.firstMessageTimeoutMs / 1000} s of the call's headers (limits.firstMessageTimeoutSeconds)`,
      }),
    );
  }

  /** Streams held now. */
  get size(): number {
    return this.open.size;
  }

  /** Admits or refuses each stream as its headers arrive (guarantees 2 and 4). */
  readonly filter: GrpcStreamFilter = (stream, headers, next) => {
    if (stream.session !== undefined) this.credit.admit(stream.session);
    if (headerListBytes(headers) > this.options.maxHeaderBytes) {
      this.totals.oversizedHeaders++;
      return resetStream(stream, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    }
    if (this.open.size >= this.options.maxCallsInFlight) {
      const victim = this.waiting.oldest ?? this.longLived();
      if (victim === undefined) {
        this.totals.refused++;
        return this.tooManyCalls.sendAndReset(stream, headers[requestIdHeader]);
      }
      this.totals.evicted++;
      this.reset(victim, this.tooManyCalls);
    }
    const held = new Stream(stream, headers[requestIdHeader], this.clock.now());
    held.held = this.open.add(held);
    held.waiting = this.waiting.add(held);
    (stream as GuardedStream)[heldKey] = held;
    stream.once("close", () => this.forget(held));
    // The client's side has ended: for a method whose request is one message, the whole request has arrived.
    stream.once("end", () => this.arrived(held));
    next();
    this.schedule();
  };

  /**
   * The first interceptor of the server, for methods whose request is a stream
   * (reflection): tells the guard when their first message has arrived. Any other
   * call's request has arrived with the end of the client's side of the stream, which
   * the filter sees; it passes through untouched, since a grpc-js interceptor costs
   * every call a layer of its own (about a third of a health check's CPU time).
   */
  readonly interceptor: grpc.ServerInterceptor = (method, call) => {
    if (!method.requestStream) return call as grpc.ServerInterceptingCall;
    // The first interceptor receives grpc-js's own per-call object, which holds the HTTP/2 stream.
    const stream = (call as unknown as { stream?: ServerHttp2Stream }).stream;
    const held = (stream as GuardedStream | undefined)?.[heldKey];
    if (held === undefined) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            this.arrived(held);
            nextMessage(message);
          },
        }),
    });
  };

  /** Answers and resets every stream past its first-message deadline. Runs on its own timer; tests call it after moving their clock. */
  closeExpired(): void {
    const expiredBefore = this.clock.now() - this.options.firstMessageTimeoutMs;
    for (let held = this.waiting.oldest; held !== undefined && held.since <= expiredBefore; held = this.waiting.oldest) {
      this.totals.timedOut++;
      this.reset(held, this.noRequest);
    }
    this.schedule();
  }

  /** The streams `session` may have open at once now: `maxStreamsPerConnection`, or less after resets without a request. */
  streamsAllowed(session: Http2Session): number {
    return this.credit.limitOf(session);
  }

  private arrived(held: Stream): void {
    if (held.waiting !== undefined) this.credit.earn(held.stream.session);
    this.unwait(held);
  }

  private unwait(held: Stream): void {
    if (held.waiting === undefined) return;
    this.waiting.remove(held.waiting);
    held.waiting = undefined;
  }

  private longLived(): Stream | undefined {
    const oldest = this.open.oldest;
    return oldest !== undefined && this.clock.now() - oldest.since > this.options.longLivedMs ? oldest : undefined;
  }

  /** Stops holding `held`, answers it and resets it, and closes its connection at its last allowed reset without a request (guarantee 3). */
  private reset(held: Stream, answer: TrailersOnlyAnswer): void {
    const withoutRequest = held.waiting !== undefined;
    this.forget(held);
    const { session } = held.stream;
    answer.sendAndReset(held.stream, held.requestId);
    if (!withoutRequest || session === undefined || session.closed || session.destroyed) return;
    if (this.credit.charge(session) < this.options.maxStreamsPerConnection) return;
    this.totals.connectionsClosed++;
    // No new stream is taken from it; it closes once the answers written are sent and its last streams reset,
    // or when their deadline has passed, whether or not the client reads what was sent.
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
    setTimeout(() => session.destroy(), this.options.firstMessageTimeoutMs).unref();
  }

  private forget(held: Stream): void {
    if (held.held === undefined) return;
    this.open.remove(held.held);
    held.held = undefined;
    this.unwait(held);
  }

  private schedule(): void {
    const next = this.waiting.oldest;
    this.timer.arm(next && next.since + this.options.firstMessageTimeoutMs);
  }
}
