import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { ConnectionGuard, type ConnectionGuardOptions } from "../../src/transports/connection-guard.js";
import { FakeClock } from "../support/fake-clock.js";

/** What the guard uses of a socket: its peer, `destroy()`, and a `close` event, which Node emits after destroy. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit("close"));
    }
    return this;
  }
}

let nextPort = 40_000;
function setUp(options: Partial<ConnectionGuardOptions> = {}) {
  const clock = new FakeClock();
  const guard = new ConnectionGuard({ maxConnections: 3, maxStalledPerAddress: 100, stalledTimeoutMs: 1_000, clock, ...options });
  const accept = (address = "10.0.0.1") => {
    const socket = new FakeSocket(address, nextPort++);
    guard.admit(socket as unknown as Socket);
    return socket;
  };
  return { clock, guard, accept };
}

describe("ConnectionGuard", () => {
  it("closes a connection still stalled at its deadline, and not a moment before", () => {
    const { clock, guard, accept } = setUp();
    const first = accept();
    clock.advance(600);
    const second = accept();
    clock.advance(399);
    guard.closeExpired();
    assert.deepEqual([first.destroyed, second.destroyed], [false, false]);
    clock.advance(1);
    guard.closeExpired();
    assert.deepEqual([first.destroyed, second.destroyed], [true, false]);
    clock.advance(600);
    guard.closeExpired();
    assert.equal(second.destroyed, true);
    assert.equal(guard.totals.timedOut, 2);
    assert.equal(guard.size, 0);
  });

  it("leaves a proven connection open past the deadline, idle or busy", () => {
    const { clock, guard, accept } = setUp();
    const idle = accept();
    const busy = accept();
    guard.proven(idle);
    const end = guard.callStarted(busy);
    clock.advance(60_000);
    guard.closeExpired();
    assert.deepEqual([idle.destroyed, busy.destroyed], [false, false]);
    end();
    assert.equal(guard.stalledCount, 0);
  });

  it("at the cap, makes room by closing the oldest stalled connection, then the oldest idle one, never a busy one", () => {
    const { guard, accept } = setUp();
    const a = accept();
    const b = accept();
    const c = accept();
    guard.proven(a);
    guard.callStarted(c);
    const d = accept();
    assert.deepEqual([a.destroyed, b.destroyed, c.destroyed, d.destroyed], [false, true, false, false], "b was the only stalled one");
    guard.proven(d);
    const e = accept();
    assert.deepEqual([a.destroyed, d.destroyed, e.destroyed], [true, false, false], "a went idle before d");
    assert.equal(guard.totals.evicted, 2);
  });

  it("refuses a newcomer only when every connection held has a call in flight", () => {
    const { guard, accept } = setUp();
    const held = [accept(), accept(), accept()];
    const ends = held.map((socket) => guard.callStarted(socket));
    const refused = accept();
    assert.equal(refused.destroyed, true);
    assert.equal(guard.totals.refused, 1);
    assert.ok(held.every((socket) => !socket.destroyed));
    ends[1]!();
    ends[1]!();
    const admitted = accept();
    assert.deepEqual([admitted.destroyed, held[1]!.destroyed], [false, true], "the connection whose call ended is idle, and goes first");
  });

  it("counts a connection busy until its last call ends", () => {
    const { guard, accept } = setUp({ maxConnections: 1 });
    const socket = accept();
    const first = guard.callStarted(socket);
    const second = guard.callStarted(socket);
    first();
    assert.equal(accept().destroyed, true, "one call is still in flight");
    second();
    accept();
    assert.equal(socket.destroyed, true, "idle now, so it makes room");
  });

  it("holds at most maxStalledPerAddress stalled connections of one address, closing its own oldest", () => {
    const { guard, accept } = setUp({ maxConnections: 100, maxStalledPerAddress: 2 });
    const other = accept("10.0.0.9");
    const [a, b, c] = [accept("10.0.0.1"), accept("10.0.0.1"), accept("10.0.0.1")];
    assert.deepEqual([a.destroyed, b.destroyed, c.destroyed, other.destroyed], [true, false, false, false]);
    guard.proven(b);
    accept("10.0.0.1");
    assert.equal(c.destroyed, false, "b is proven, so the address holds one stalled connection besides the newcomer");
  });

  it("forgets a connection the client closed, and destroys the rest at the end of a grace period", async () => {
    const { guard, accept } = setUp();
    const gone = accept();
    const left = [accept(), accept()];
    gone.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(guard.size, 2);
    guard.destroyAll();
    assert.ok(left.every((socket) => socket.destroyed));
    assert.equal(guard.size, 0);
  });

  it("ignores reports about peers it does not hold, and a connection reset before it was admitted", () => {
    const { guard } = setUp();
    guard.proven({ remoteAddress: "10.9.9.9", remotePort: 1 });
    guard.callStarted({ remoteAddress: undefined, remotePort: undefined })();
    const reset = new FakeSocket(undefined as unknown as string, 0);
    guard.admit(reset as unknown as Socket);
    assert.deepEqual([reset.destroyed, guard.size], [true, 0]);
  });
});
