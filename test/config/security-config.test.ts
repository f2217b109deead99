import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { problemsOf, withChange } from "../support/config-variants.js";

describe("config validation: the security block", () => {
  it("requires an explicit security block, and checks it", () => {
    const sec = (security: unknown) => problemsOf(withChange((r) => ((r as Record<string, unknown>).security = security)));
    assert.match(
      problemsOf(withChange((r) => delete (r as Record<string, unknown>).security)).join("\n"),
      /^security: is required: configure tls with clientCaFile or apiKeys, or set insecurePlaintext: true/m,
    );
    assert.match(sec({}).join("\n"), /^security\.tls: is required unless insecurePlaintext is true/m);
    assert.match(sec({ tls: { certFile: "s.crt", keyFile: "s.key" } }).join("\n"), /^security\.apiKeys: or tls\.clientCaFile is required/m);
    assert.match(
      sec({ insecurePlaintext: true, apiKeys: [{ name: "a", sha256: "0".repeat(64) }] }).join("\n"),
      /^security\.apiKeys: cannot be combined with insecurePlaintext/m,
    );
    assert.match(
      sec({ tls: { certFile: "s.crt", keyFile: "s.key" }, apiKeys: [{ name: "a", sha256: "cts_plaintext_key" }] }).join("\n"),
      /^security\.apiKeys\[0\]\.sha256: must be the key's SHA-256/m,
    );
    const dup = sec({
      tls: { certFile: "s.crt", keyFile: "s.key" },
      apiKeys: [
        { name: "a", sha256: "1".repeat(64) },
        { name: "a", sha256: "1".repeat(64) },
      ],
    }).join("\n");
    assert.match(dup, /^security\.apiKeys\[1\]\.name: duplicates another API key's name "a"$/m);
    assert.match(
      sec({
        tls: { certFile: "s.crt", keyFile: "s.key", clientCaFile: "ca.crt" },
        grants: [{ principals: ["key:x"], clusters: ["*"], rpcs: ["DeleteCluster"] }],
      }).join("\n"),
      /^security\.grants\[0\]\.rpcs\[0\]: must be one of GenerateToken, GetKubeconfig, ListClusters or "\*"/m,
    );
    const tlsKeys = { tls: { certFile: "s.crt", keyFile: "s.key", clientCaFile: "ca.crt" } };
    const kinds = sec({
      ...tlsKeys,
      grants: [
        {
          principals: ["deployer", "key:", "spiffe://corp/ns/../admin", "spiffe://corp/ns/ci/*", "cert:ops.example.com", "key:ci-*"],
          clusters: ["*"],
          rpcs: ["*"],
        },
      ],
    }).join("\n");
    assert.match(kinds, /^security\.grants\[0\]\.principals\[0\]: must say which kind of principal it means: "key:NAME"/m);
    assert.match(kinds, /^security\.grants\[0\]\.principals\[1\]: must name a principal after "key:"$/m);
    assert.match(kinds, /^security\.grants\[0\]\.principals\[2\]: must not have '\.' or '\.\.' path segments$/m);
    assert.doesNotMatch(kinds, /principals\[[345]\]/, "kind-qualified patterns are fine");
    for (const name of ["cert:deployer", "spiffe://corp/x", "a/b"]) {
      assert.match(
        sec({ ...tlsKeys, apiKeys: [{ name, sha256: "2".repeat(64) }] }).join("\n"),
        /^security\.apiKeys\[0\]\.name: must be 1 to 128 characters of \[A-Za-z0-9_.@-\] \(no ":" or "\/"/m,
        name,
      );
    }
    assert.match(
      problemsOf(withChange((r) => ((r as Record<string, unknown>).publicUrl = "http://0.0.0.0:8080"))).join("\n"),
      /^publicUrl: must be an address clients can reach, not a wildcard bind address$/m,
    );
  });
});
