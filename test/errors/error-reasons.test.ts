import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { errorReasons } from "../../src/errors/error-reasons.js";
import { ServiceError } from "../../src/errors/service-error.js";
import { errorStatuses } from "../../src/errors/status-codes.js";
import { repoRoot } from "../support/paths.js";

/** The error table of docs/api.md: reason → code name, as a reader sees it. */
function documentedReasons(): Map<string, string> {
  const page = readFileSync(join(repoRoot, "docs", "api.md"), "utf8");
  const start = page.indexOf("\n## Errors\n");
  assert.ok(start >= 0, "docs/api.md has an Errors section");
  const next = page.indexOf("\n## ", start + 1);
  const section = page.slice(start, next < 0 ? undefined : next);
  const reasons = new Map<string, string>();
  for (const [, code, cell] of section.matchAll(/^\| ([A-Z_]+) \| [^|]+ \| (.+) \|$/gm)) {
    for (const [, reason] of cell!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) reasons.set(reason!, code!);
  }
  return reasons;
}

describe("error reasons", () => {
  it("the error table of docs/api.md lists every reason, under the code it comes with, and nothing else", () => {
    const documented = documentedReasons();
    const table = new Map(Object.entries(errorReasons).map(([reason, code]) => [reason, errorStatuses[code].grpc]));
    assert.deepEqual([...documented].sort(), [...table].sort());
  });

  it("a ServiceError takes its code from its reason", () => {
    const err = new ServiceError({ reason: "UPSTREAM_THROTTLED", message: "slow down" });
    assert.deepEqual([err.code, err.reason], ["Unavailable", "UPSTREAM_THROTTLED"]);
  });
});
