import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConcurrencyLimit } from "../../src/common/concurrency-limit.js";
import { nextListingDelay, ScopePoller } from "../../src/discovery/scope-poller.js";
import { FakeScheduler } from "../support/fake-scheduler.js";

/** A poller whose listings the test answers: each listing waits until `answer` is called (or never, for a hung cloud). */
function controlled(
  scheduler: FakeScheduler,
  slots: ConcurrencyLimit,
  options: { pollMs?: number; timeoutMs?: number; ignoresSignal?: boolean } = {},
) {
  const pending: { resolve: (value: string) => void; reject: (err: Error) => void }[] = [];
  const applied: string[] = [];
  const failures: unknown[] = [];
  const done: boolean[] = [];
  let waiters: (() => void)[] = [];
  const poller = new ScopePoller<string>({
    pollMs: options.pollMs ?? 60_000,
    listingTimeoutMs: () => options.timeoutMs ?? 10_000,
    slots,
    scheduler,
    random: () => 0.5,
    list: (signal) =>
      new Promise<string>((resolve, reject) => {
        pending.push({ resolve, reject });
        if (!options.ignoresSignal) signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    listed: async (listing) => {
      applied.push(listing);
    },
    failed: (err) => failures.push(err),
    done: (ok) => {
      done.push(ok);
      for (const wake of waiters) wake();
      waiters = [];
    },
  });
  /** Resolves once `count` listings have ended. */
  const ended = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (done.length >= count ? resolve() : waiters.push(check));
      check();
    });
  /** Lets the event loop run what the fake scheduler started (slot waits, the listing's promise). */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { poller, pending, applied, failures, done, ended, settle };
}

describe("the scope poller", () => {
  it("waits pollSeconds after a success, and 30 s, 60 s, … after failures, up to the larger of pollSeconds and five minutes, ±10 %", () => {
    const mid = () => 0.5;
    assert.equal(nextListingDelay(300_000, 0, mid), 300_000);
    assert.equal(
      nextListingDelay(300_000, 0, () => 0),
      270_000,
    );
    assert.equal(
      nextListingDelay(300_000, 0, () => 0.999_999),
      330_000,
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 20].map((n) => nextListingDelay(300_000, n, mid)),
      [30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000],
    );
    assert.equal(nextListingDelay(3_600_000, 8, mid), 3_600_000);
    assert.equal(nextListingDelay(10_000, 5, mid), 300_000, "failures back off past a short pollSeconds");
  });

  it("lists at once when started, in the background, then every pollSeconds", async () => {
    const scheduler = new FakeScheduler();
    const p = controlled(scheduler, new ConcurrencyLimit(4));
    p.poller.start();
    assert.equal(p.pending.length, 0, "nothing runs in start() itself");
    scheduler.advance(0);
    await p.settle();
    assert.equal(p.pending.length, 1);
    p.pending[0]?.resolve("first");
    await p.ended(1);
    assert.deepEqual(p.applied, ["first"]);
    assert.deepEqual(scheduler.pending(), [60_000]);
    scheduler.advance(59_999);
    await p.settle();
    assert.equal(p.pending.length, 1, "not before its time");
    scheduler.advance(1);
    await p.settle();
    assert.equal(p.pending.length, 2);
    p.poller.stop();
  });

  it("backs off after a failure, applies nothing of it, and returns to pollSeconds after a success", async () => {
    const scheduler = new FakeScheduler();
    const p = controlled(scheduler, new ConcurrencyLimit(4));
    p.poller.start();
    scheduler.advance(0);
    await p.settle();
    p.pending[0]?.reject(new Error("page 2 failed"));
    await p.ended(1);
    assert.deepEqual(p.applied, []);
    assert.equal(p.failures.length, 1);
    assert.deepEqual(scheduler.pending(), [30_000]);
    scheduler.advance(30_000);
    await p.settle();
    p.pending[1]?.reject(new Error("again"));
    await p.ended(2);
    assert.deepEqual(scheduler.pending(), [60_000]);
    scheduler.advance(60_000);
    await p.settle();
    p.pending[2]?.resolve("ok");
    await p.ended(3);
    assert.deepEqual(p.done, [false, false, true]);
    assert.deepEqual(scheduler.pending(), [60_000]);
    p.poller.stop();
  });

  it("runs at most as many listings at once as there are slots, across pollers", async () => {
    const scheduler = new FakeScheduler();
    const slots = new ConcurrencyLimit(2);
    const pollers = Array.from({ length: 5 }, () => controlled(scheduler, slots));
    for (const p of pollers) p.poller.start();
    scheduler.advance(0);
    await pollers[0]?.settle();
    assert.equal(
      pollers.reduce((n, p) => n + p.pending.length, 0),
      2,
    );
    pollers[0]?.pending[0]?.resolve("done");
    await pollers[0]?.ended(1);
    await pollers[0]?.settle();
    assert.equal(
      pollers.reduce((n, p) => n + p.pending.length, 0),
      3,
      "a released slot goes to the next in line",
    );
    assert.equal(slots.holders, 2);
    for (const p of pollers) p.poller.stop();
    await pollers[0]?.settle();
    assert.equal(slots.holders, 0, "stopping frees every slot");
  });

  it("abandons a listing at its deadline even when the lister ignores its signal, and frees its slot", async () => {
    const scheduler = new FakeScheduler();
    const slots = new ConcurrencyLimit(1);
    const hung = controlled(scheduler, slots, { ignoresSignal: true, timeoutMs: 5_000 });
    const next = controlled(scheduler, slots);
    hung.poller.start();
    next.poller.start();
    scheduler.advance(0);
    await hung.settle();
    assert.deepEqual([hung.pending.length, next.pending.length], [1, 0]);
    scheduler.advance(5_000);
    await hung.ended(1);
    await hung.settle();
    assert.equal((hung.failures[0] as Error).name, "TimeoutError");
    assert.equal(next.pending.length, 1, "the slot went to the next scope");
    hung.pending[0]?.resolve("too late");
    await hung.settle();
    assert.deepEqual(hung.applied, [], "a late answer is never applied");
    hung.poller.stop();
    next.poller.stop();
  });

  it("stops: no further listing, and the one under way is neither applied nor reported as failed", async () => {
    const scheduler = new FakeScheduler();
    const p = controlled(scheduler, new ConcurrencyLimit(1));
    p.poller.start();
    scheduler.advance(0);
    await p.settle();
    p.poller.stop();
    await p.settle();
    assert.deepEqual([p.applied, p.failures, p.done], [[], [], []]);
    scheduler.advance(3_600_000);
    await p.settle();
    assert.equal(p.pending.length, 1);
  });
});
