import assert from "node:assert/strict";
import type { Http2Session } from "node:http2";
import { describe, it } from "node:test";
import { GrpcStreamCredit } from "../../src/transports/grpc-stream-credit.js";
import { FakeClock } from "../support/fake-clock.js";

/** What the credit uses of a session: its peer, SETTINGS sent and their acknowledgement. */
class FakeSession {
  closed = false;
  destroyed = false;
  /** Every SETTINGS_MAX_CONCURRENT_STREAMS sent, in order. */
  readonly advertised: number[] = [];
  readonly socket: { remoteAddress: string };
  constructor(address = "10.0.0.1") {
    this.socket = { remoteAddress: address };
  }
  /** Acknowledgements the client owes. */
  private readonly owed: (() => void)[] = [];
  settings(settings: { maxConcurrentStreams: number }, acknowledged: () => void): void {
    this.advertised.push(settings.maxConcurrentStreams);
    this.owed.push(acknowledged);
  }
  /** The client acknowledges what was sent. */
  ack(): void {
    for (const acknowledged of this.owed.splice(0)) acknowledged();
  }
}

function setUp(options: { maxAddresses?: number } = {}) {
  const clock = new FakeClock();
  const credit = new GrpcStreamCredit({ maxStreams: 100, addressMemoryMs: 60_000, maxAddresses: options.maxAddresses ?? 10, clock });
  const connect = (address?: string) => {
    const session = new FakeSession(address);
    credit.admit(session as unknown as Http2Session);
    return session;
  };
  const s = (session: FakeSession) => session as unknown as Http2Session;
  return { clock, credit, connect, s };
}

describe("GrpcStreamCredit", () => {
  it("leaves a connection that wastes no stream alone: no SETTINGS, the port's maximum", () => {
    const { credit, connect, s } = setUp();
    const session = connect();
    for (let i = 0; i < 50; i++) credit.earn(s(session));
    assert.deepEqual(session.advertised, []);
    assert.equal(credit.limitOf(s(session)), 100);
  });

  it("halves a connection's streams for each reset without a request, down to 1, and counts the resets", () => {
    const { credit, connect, s } = setUp();
    const session = connect();
    const resets = [];
    for (let i = 0; i < 8; i++) {
      resets.push(credit.charge(s(session)));
      session.ack();
    }
    assert.deepEqual(session.advertised, [50, 25, 12, 6, 3, 1]);
    assert.deepEqual(resets, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(credit.limitOf(s(session)), 1);
  });

  it("starts a new connection from a charged address where its last charged connection was left, and forgets the address after addressMemoryMs", () => {
    const { clock, credit, connect, s } = setUp();
    const first = connect("10.0.0.1");
    for (let i = 0; i < 3; i++) credit.charge(s(first));
    const again = connect("10.0.0.1");
    assert.equal(credit.limitOf(s(again)), 12);
    assert.deepEqual(again.advertised, [12], "advertised before the client's next streams: reconnecting buys nothing");
    assert.equal(credit.limitOf(s(connect("10.0.0.2"))), 100, "another address is not charged");
    clock.advance(60_000);
    const later = connect("10.0.0.1");
    assert.equal(credit.limitOf(s(later)), 100);
    assert.deepEqual(later.advertised, []);
  });

  it("gives a charged connection one stream back per request, one SETTINGS a round trip at most", () => {
    const { credit, connect, s } = setUp();
    const session = connect();
    for (let i = 0; i < 7; i++) {
      credit.charge(s(session));
      session.ack();
    }
    session.advertised.length = 0;
    // Slow start: each round trip, every stream whose request arrived earns one more.
    for (let window = 1; credit.limitOf(s(session)) < 100; window = credit.limitOf(s(session))) {
      for (let i = 0; i < window; i++) credit.earn(s(session));
      session.ack();
    }
    assert.deepEqual(session.advertised, [2, 3, 4, 8, 16, 32, 64, 100], "one frame a round trip: the window doubles each");
    credit.earn(s(session));
    session.ack();
    assert.equal(session.advertised.length, 8, "at the port's maximum: nothing more");
  });

  it("holds a new value back while its previous SETTINGS awaits acknowledgement, and sends it once acknowledged", () => {
    const { credit, connect, s } = setUp();
    const session = connect();
    credit.charge(s(session));
    credit.charge(s(session));
    credit.charge(s(session));
    assert.deepEqual(session.advertised, [50], "one SETTINGS outstanding at most: a client that never acknowledges cannot queue more");
    session.ack();
    assert.deepEqual(session.advertised, [50, 12]);
  });

  it("remembers at most maxAddresses, forgetting the one charged least recently", () => {
    const { credit, connect, s } = setUp({ maxAddresses: 2 });
    for (const address of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) credit.charge(s(connect(address)));
    assert.equal(credit.limitOf(s(connect("10.0.0.1"))), 100);
    assert.equal(credit.limitOf(s(connect("10.0.0.3"))), 50);
  });
});
