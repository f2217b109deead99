import type { Http2Session } from "node:http2";
import { type Clock, systemClock } from "../common/clock.js";

/** Options of {@link GrpcStreamCredit}. */
export interface GrpcStreamCreditOptions {
  /** The streams a connection may have open at once while it wastes none (`limits.maxStreamsPerConnection`). */
  maxStreams: number;
  /** How long a remote address's new connections start with its lowered credit after its last waste. Default: a minute. */
  addressMemoryMs?: number;
  /** The most remote addresses remembered; past it the one charged least recently is forgotten. Default: 10,000 (a few hundred kilobytes). */
  maxAddresses?: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/** What one connection may open now, and what it was last told. */
class Credit {
  /** Streams reset before their request arrived. */
  resets = 0;
  /** Whether a SETTINGS of ours awaits the client's acknowledgement. */
  awaiting = false;

  constructor(
    readonly address: string | undefined,
    public limit: number,
    public advertised: number,
  ) {}
}

/** Where a connection keeps its {@link Credit}: a property, not a map (see arrival-list.ts). */
const creditKey = Symbol("cluster-token stream credit");
type CreditedSession = Http2Session & { [creditKey]?: Credit };

/**
 * How many streams each connection of a gRPC port may have open at once
 * (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2), lowered for those that waste
 * them. A flood of header-only streams sustains itself through resets: each stream
 * the guard resets frees a slot the attacker fills at once, and each connection
 * closed for it is replaced by a fresh one, thousands of streams a second; that
 * churn (a grpc-js call set up and thrown away each time, a TLS handshake per
 * connection), not what is held at any moment, is what grows the process.
 *
 * - A stream reset before its request arrived halves what its connection may
 *   open, down to 1: the slot is not given back. nghttp2 refuses streams past the
 *   new value (RST_STREAM REFUSED_STREAM) before any JavaScript sees them, even
 *   before the client has acknowledged it.
 * - The charge is remembered for the connection's remote address for
 *   `addressMemoryMs` after the last one: its new connections start with what its
 *   last charged connection was left, so reconnecting buys nothing.
 * - Each request that arrives earns its connection one stream back, up to
 *   `maxStreams`, as TCP's slow start grows its window: a well-behaved client
 *   behind the same address (a NAT) doubles its streams every round trip. A
 *   connection whose address was never charged pays one property read per call.
 *
 * A new value is sent only when no earlier SETTINGS of ours awaits its
 * acknowledgement, else once it is acknowledged: one frame a round trip at most,
 * and a client that never acknowledges cannot make the server queue them (Node
 * refuses more than ten). The first goes out at once, whether or not the server's
 * initial SETTINGS has been acknowledged.
 */
export class GrpcStreamCredit {
  private readonly clock: Clock;
  private readonly addressMemoryMs: number;
  private readonly maxAddresses: number;
  /** Each charged address's credit for new connections, and when it was last charged, least recent first. */
  private readonly addresses = new Map<string, { limit: number; chargedAt: number }>();

  constructor(private readonly options: GrpcStreamCreditOptions) {
    this.clock = options.clock ?? systemClock;
    this.addressMemoryMs = options.addressMemoryMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Called for every stream: gives a new connection its starting credit, from its address's record. */
  admit(session: Http2Session): void {
    const credited = session as CreditedSession;
    if (credited[creditKey] !== undefined) return;
    const address = session.socket?.remoteAddress;
    const { maxStreams } = this.options;
    const record = address === undefined ? undefined : this.addresses.get(address);
    const start = record !== undefined && this.clock.now() - record.chargedAt < this.addressMemoryMs ? record.limit : maxStreams;
    const credit = new Credit(address, start, maxStreams);
    credited[creditKey] = credit;
    this.advertise(session, credit);
  }

  /** A stream of `session` was reset before its request arrived; returns how many have been on that connection. */
  charge(session: Http2Session): number {
    const credit = (session as CreditedSession)[creditKey];
    if (credit === undefined) return 0;
    credit.resets++;
    credit.limit = Math.max(1, Math.floor(credit.limit / 2));
    this.advertise(session, credit);
    if (credit.address !== undefined) this.remember(credit.address, credit.limit);
    return credit.resets;
  }

  /** A request arrived on `session`: a connection below its maximum earns one stream back. */
  earn(session: Http2Session | undefined): void {
    if (session === undefined) return;
    const credit = (session as CreditedSession)[creditKey];
    if (credit === undefined || credit.limit >= this.options.maxStreams) return;
    credit.limit++;
    this.advertise(session, credit);
  }

  /** The streams `session` may have open at once now. */
  limitOf(session: Http2Session): number {
    return (session as CreditedSession)[creditKey]?.limit ?? this.options.maxStreams;
  }

  private remember(address: string, limit: number): void {
    this.addresses.delete(address);
    this.addresses.set(address, { limit, chargedAt: this.clock.now() });
    if (this.addresses.size > this.maxAddresses) {
      const leastRecent = this.addresses.keys().next();
      if (!leastRecent.done) this.addresses.delete(leastRecent.value);
    }
  }

  private advertise(session: Http2Session, credit: Credit): void {
    // A value that changes while one awaits its acknowledgement goes out once it comes.
    if (credit.limit === credit.advertised || credit.awaiting || session.closed || session.destroyed) return;
    credit.advertised = credit.limit;
    credit.awaiting = true;
    session.settings({ maxConcurrentStreams: credit.limit }, () => {
      credit.awaiting = false;
      this.advertise(session, credit);
    });
  }
}
