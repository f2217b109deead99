import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reconcile } from "../../src/discovery/reconciler.js";

type C = { id: string; v: number };
const map = (...items: C[]) => new Map(items.map((c) => [c.id, c]));
const same = (a: C, b: C) => a.v === b.v;

describe("the reconciler", () => {
  it("adds what is new, updates what changed, removes what the complete listing no longer holds", () => {
    const known = map({ id: "a", v: 1 }, { id: "b", v: 1 }, { id: "c", v: 1 });
    const listed = map({ id: "a", v: 1 }, { id: "b", v: 2 }, { id: "d", v: 1 });
    assert.deepEqual(reconcile(known, listed, same), {
      added: [{ id: "d", v: 1 }],
      updated: [{ id: "b", v: 2 }],
      removed: [{ id: "c", v: 1 }],
      unchanged: 1,
    });
  });

  it("is pure: it changes neither map", () => {
    const known = map({ id: "a", v: 1 });
    const listed = map({ id: "b", v: 1 });
    reconcile(known, listed, same);
    assert.deepEqual([...known.keys()], ["a"]);
    assert.deepEqual([...listed.keys()], ["b"]);
  });

  it("an empty complete listing removes everything the scope held, and nothing else", () => {
    const change = reconcile(map({ id: "a", v: 1 }, { id: "b", v: 1 }), map(), same);
    assert.deepEqual(
      change.removed.map((c) => c.id),
      ["a", "b"],
    );
    assert.equal(change.added.length + change.updated.length, 0);
  });
});
