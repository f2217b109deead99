import type { Server as HttpServer } from "node:http";
import type { Server, Socket } from "node:net";
import { type Clock, systemClock } from "../common/clock.js";
import { type ArrivalEntry, ArrivalList } from "./arrival-list.js";
import { OldestFirstTimer } from "./oldest-first-timer.js";

/** Options of {@link ConnectionGuard}. */
export interface ConnectionGuardOptions {
  /** The most connections held at once (`limits.maxConnections`, or `limits.maxProbeConnections`). */
  maxConnections: number;
  /** The most stalled connections one remote address holds (`limits.maxStalledConnectionsPerAddress`). */
  maxStalledPerAddress: number;
  /** How long after accept a connection may stay stalled before it is closed. */
  stalledTimeoutMs: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/** A remote peer, as the sockets of every layer describe it: TCP, TLS, and an HTTP/2 session's socket proxy. */
export interface Peer {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** How many connections were closed, and why: running totals, for metrics and tests. */
export interface ConnectionGuardTotals {
  /** Closed because they were still stalled at their deadline. */
  timedOut: number;
  /** Closed to make room for a newer connection: the oldest stalled or idle one. */
  evicted: number;
  /** Closed on arrival, because every connection held had a call in flight. */
  refused: number;
}

class Connection {
  /** Calls in flight; stalled (not proven yet) when undefined. */
  inFlight: number | undefined = undefined;
  /** Its places among the stalled connections, those of its address, and the idle ones, while it is in them. */
  stalled: ArrivalEntry<Connection> | undefined = undefined;
  stalledOfAddress: ArrivalEntry<Connection> | undefined = undefined;
  idle: ArrivalEntry<Connection> | undefined = undefined;

  constructor(
    readonly socket: Socket,
    readonly key: string,
    readonly address: string,
    readonly since: number,
  ) {}
}

const peerKey = (address: string, port: number) => `${address}|${port}`;

/**
 * One guard per listener, for what neither Node's servers nor grpc-js bound: how
 * long a connection may take to prove itself, and a cap that stalled connections
 * cannot fill. A connection is *stalled* from accept until the listener reports it
 * {@link proven} (its TLS handshake and HTTP/2 preface done, or its first request's
 * headers received); then it is *idle* or, while a call runs on it, *busy*.
 *
 * 1. A connection still stalled `stalledTimeoutMs` after accept is closed.
 * 2. At the cap, a new connection closes the oldest stalled one, else the oldest
 *    idle one; only when every connection is busy is the newcomer closed. A busy
 *    connection is never closed here: calls in flight end on their own deadlines.
 * 3. One remote address holds at most `maxStalledPerAddress` stalled connections:
 *    its next one closes its own oldest, so a single client cannot evict the
 *    handshakes of everyone else.
 *
 * Every operation is O(1); one timer serves the whole listener, since stalled
 * connections expire in the order they arrived.
 */
export class ConnectionGuard {
  readonly totals: ConnectionGuardTotals = { timedOut: 0, evicted: 0, refused: 0 };
  private readonly clock: Clock;
  private readonly connections = new Map<string, Connection>();
  /** In accept order, so the first is the oldest and the first to expire. */
  private readonly stalled = new ArrivalList<Connection>();
  private readonly stalledByAddress = new Map<string, ArrivalList<Connection>>();
  /** In the order they went idle. */
  private readonly idle = new ArrivalList<Connection>();
  private readonly timer: OldestFirstTimer;

  constructor(private readonly options: ConnectionGuardOptions) {
    this.clock = options.clock ?? systemClock;
    this.timer = new OldestFirstTimer(this.clock, () => this.closeExpired());
  }

  /** Connections held now. */
  get size(): number {
    return this.connections.size;
  }

  /** Stalled connections held now. */
  get stalledCount(): number {
    return this.stalled.size;
  }

  /** Takes a newly accepted connection in, making room for it or closing it (guarantees 2 and 3). */
  admit(socket: Socket): void {
    const { remoteAddress: address, remotePort: port } = socket;
    // Already reset by the client: nothing to guard.
    if (address === undefined || port === undefined) return void socket.destroy();
    const sameAddress = this.stalledByAddress.get(address);
    const oldestOfAddress =
      sameAddress !== undefined && sameAddress.size >= this.options.maxStalledPerAddress ? sameAddress.oldest : undefined;
    if (oldestOfAddress !== undefined) this.evict(oldestOfAddress);
    if (this.connections.size >= this.options.maxConnections) {
      const victim = this.stalled.oldest ?? this.idle.oldest;
      if (victim === undefined) {
        this.totals.refused++;
        return void socket.destroy();
      }
      this.evict(victim);
    }
    const connection = new Connection(socket, peerKey(address, port), address, this.clock.now());
    this.connections.set(connection.key, connection);
    connection.stalled = this.stalled.add(connection);
    const ofAddress = this.stalledByAddress.get(address) ?? new ArrivalList<Connection>();
    this.stalledByAddress.set(address, ofAddress);
    connection.stalledOfAddress = ofAddress.add(connection);
    socket.once("close", () => this.forget(connection));
    this.schedule();
  }

  /** The connection of `peer` has proven itself (handshake and preface done, or a request's headers received): it is no longer stalled. */
  proven(peer: Peer): void {
    const connection = this.find(peer);
    if (connection === undefined || connection.inFlight !== undefined) return;
    this.unstall(connection);
    connection.inFlight = 0;
    connection.idle = this.idle.add(connection);
  }

  /**
   * A call started on the connection of `peer`, which proves it; the function
   * returned ends the call, and may be called more than once.
   */
  callStarted(peer: Peer): () => void {
    const connection = this.find(peer);
    if (connection === undefined) return () => {};
    if (connection.inFlight === undefined) this.unstall(connection);
    connection.inFlight = (connection.inFlight ?? 0) + 1;
    this.unidle(connection);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      connection.inFlight = (connection.inFlight ?? 1) - 1;
      if (connection.inFlight === 0 && this.connections.get(connection.key) === connection) connection.idle = this.idle.add(connection);
    };
  }

  /** Closes every stalled connection past its deadline (guarantee 1). Runs on its own timer; tests call it after moving their clock. */
  closeExpired(): void {
    const expiredBefore = this.clock.now() - this.options.stalledTimeoutMs;
    for (
      let connection = this.stalled.oldest;
      connection !== undefined && connection.since <= expiredBefore;
      connection = this.stalled.oldest
    ) {
      this.totals.timedOut++;
      this.close(connection);
    }
    this.schedule();
  }

  /** Destroys every connection, handshakes included: the end of a grace period, when `server.close()` would wait for them. */
  destroyAll(): void {
    for (const connection of [...this.connections.values()]) this.close(connection);
  }

  private find(peer: Peer): Connection | undefined {
    const { remoteAddress, remotePort } = peer;
    return remoteAddress === undefined || remotePort === undefined ? undefined : this.connections.get(peerKey(remoteAddress, remotePort));
  }

  private evict(connection: Connection): void {
    this.totals.evicted++;
    this.close(connection);
  }

  private close(connection: Connection): void {
    this.forget(connection);
    connection.socket.destroy();
  }

  private forget(connection: Connection): void {
    if (this.connections.get(connection.key) !== connection) return;
    this.connections.delete(connection.key);
    this.unstall(connection);
    this.unidle(connection);
  }

  private unstall(connection: Connection): void {
    if (connection.stalled === undefined) return;
    this.stalled.remove(connection.stalled);
    connection.stalled = undefined;
    const sameAddress = this.stalledByAddress.get(connection.address);
    if (sameAddress === undefined || connection.stalledOfAddress === undefined) return;
    sameAddress.remove(connection.stalledOfAddress);
    connection.stalledOfAddress = undefined;
    if (sameAddress.size === 0) this.stalledByAddress.delete(connection.address);
  }

  private unidle(connection: Connection): void {
    if (connection.idle === undefined) return;
    this.idle.remove(connection.idle);
    connection.idle = undefined;
  }

  private schedule(): void {
    const first = this.stalled.oldest;
    this.timer.arm(first && first.since + this.options.stalledTimeoutMs);
  }
}

/** Guards the connections `server` accepts (its `connection` event: raw TCP, before any TLS). */
export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
  const guard = new ConnectionGuard(options);
  server.on("connection", (socket: Socket) => guard.admit(socket));
  return guard;
}

/**
 * Guards the connections of an HTTP/1.1 server: a connection proves itself with
 * its first request's headers, and is busy until each response has closed.
 */
export function guardHttpConnections(server: HttpServer, options: ConnectionGuardOptions): ConnectionGuard {
  const guard = guardConnections(server, options);
  server.on("request", (req, res) => res.once("close", guard.callStarted(req.socket)));
  return guard;
}
