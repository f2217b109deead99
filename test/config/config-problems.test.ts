import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { z } from "zod";
import { closestName } from "../../src/config/closest-name.js";
import { configProblems } from "../../src/config/config-problems.js";
import { ConfigError, parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import { rawTestConfig } from "../support/test-config.js";

type Raw = Record<string, unknown> & { clusters: Record<string, unknown>[]; credentials: Record<string, Record<string, unknown>> };

function problemsOf(change: (raw: Raw) => void): string[] {
  const raw = rawTestConfig() as Raw;
  change(raw);
  try {
    parseConfig(providers, stringify(raw), "/etc/cts/config.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  return assert.fail("expected a ConfigError");
}

const known = "aws, gcp, ncp, azure, alibaba";

describe("config problems name a misspelled key", () => {
  it("a cluster entry with `provder`: the unknown key, the missing provider, and nothing about `provider undefined`", () => {
    const problems = problemsOf((r) => {
      r.clusters[0]!.provder = r.clusters[0]!.provider;
      delete r.clusters[0]!.provider;
    });
    assert.deepEqual(problems, [
      'clusters[0]: unknown key "provder" (did you mean "provider"?)',
      `clusters[0].provider: is required: one of ${known}`,
    ]);
  });

  it("a credentials entry with `provder`, and its other stray keys, each with its likely meaning", () => {
    const problems = problemsOf((r) => {
      const entry = r.credentials["aws-test"]!;
      entry.provder = entry.provider;
      delete entry.provider;
      entry.secretAccesKey = entry.secretAccessKey;
      entry.zzzzzzzz = true;
    });
    // Keys no provider's entry has are named now; those of some provider's (secretAccessKey) wait until provider is known.
    assert.deepEqual(problems, [
      'credentials.aws-test: unknown key "provder" (did you mean "provider"?)',
      'credentials.aws-test: unknown key "secretAccesKey" (did you mean "secretAccessKey"?)',
      'credentials.aws-test: unknown key "zzzzzzzz"',
      `credentials.aws-test.provider: is required: one of ${known}`,
    ]);
  });

  it("a misspelled provider value says what it got, what it may be and which was likely meant", () => {
    const problems = problemsOf((r) => {
      r.clusters[0]!.provider = "awss";
      r.credentials["aws-test"]!.provider = "Azure";
      r.clusters[1]!.provider = "oracle";
    });
    assert.deepEqual(problems.sort(), [
      `clusters[0].provider: unknown provider "awss" (did you mean "aws"?); known providers: ${known}`,
      `clusters[1].provider: unknown provider "oracle"; known providers: ${known}`,
      `credentials.aws-test.provider: unknown provider "Azure" (did you mean "azure"?); known providers: ${known}`,
    ]);
  });

  it("an entry without a provider still has its shared keys checked: its id and its credentials, in the same run", () => {
    const problems = problemsOf((r) => (r.clusters[1] = { id: "BAD ID", regoin: "x" }));
    assert.deepEqual(problems, [
      'clusters[1]: unknown key "regoin" (did you mean "region"?)',
      `clusters[1].provider: is required: one of ${known}`,
      'clusters[1].id: must be lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
      "clusters[1].credentials: is required",
    ]);
  });

  it("a provider that is not a string is named by its type, and a long one is cut", () => {
    const problems = problemsOf((r) => {
      r.clusters[0]!.provider = 5;
      r.clusters[1]!.provider = "x".repeat(500);
    });
    assert.ok(problems.includes(`clusters[0].provider: must be one of ${known}, not a number`), problems.join("\n"));
    const long = problems.find((p) => p.startsWith("clusters[1].provider"));
    assert.ok(long !== undefined && long.length < 200 && long.includes(`"${"x".repeat(64)}…"`), long);
  });

  it("a key of another provider's entry is unknown, with no suggestion taken from that provider", () => {
    const problems = problemsOf((r) => (r.clusters[0]!.project = "my-project"));
    assert.deepEqual(problems, ['clusters[0]: unknown key "project"']);
  });

  it("keys at the top level and in nested blocks, one line each", () => {
    const problems = problemsOf((r) => {
      r.lisen = r.listen;
      delete r.listen;
      r.cluster = [];
      r.limits = { maxMessageByte: 65536, maxcallseconds: 5 };
      r.security = { insecurePlaintext: true, reflecton: true };
    });
    assert.deepEqual(problems.sort(), [
      '(top level): unknown key "cluster" (did you mean "clusters"?)',
      '(top level): unknown key "lisen" (did you mean "listen"?)',
      'limits: unknown key "maxMessageByte" (did you mean "maxMessageBytes"?)',
      'limits: unknown key "maxcallseconds" (did you mean "maxCallSeconds"?)',
      "listen: is required",
      'security: unknown key "reflecton" (did you mean "reflection"?)',
    ]);
  });

  it("never echoes a value, only the unknown name in a provider's place", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz";
    const problems = problemsOf((r) => {
      delete r.clusters[0]!.provider;
      r.clusters[0]!.provder = secret;
      r.credentials["aws-test"]!.provider = "gcp";
      r.credentials["aws-test"]!.serviceAccountKey = secret;
    });
    assert.doesNotMatch(problems.join("\n"), /wJalrXUtnFEMI/);
  });

  it("an accounts entry: a misspelled key or provider is named, and its credentials are not said to be of another provider", () => {
    const account = { id: "prod", credentials: "aws-test", regions: ["us-east-1"] };
    assert.deepEqual(
      problemsOf((r) => (r.accounts = [{ id: "prod", credentials: "aws-test", provder: "aws", regoins: ["us-east-1"] }])),
      [
        'accounts[0]: unknown key "provder" (did you mean "provider"?)',
        'accounts[0]: unknown key "regoins" (did you mean "regions"?)',
        `accounts[0].provider: is required: one of ${known}`,
      ],
    );
    assert.deepEqual(
      problemsOf((r) => (r.accounts = [{ ...account, provider: "awss" }])),
      [`accounts[0].provider: unknown provider "awss" (did you mean "aws"?); known providers: ${known}`],
    );
    assert.deepEqual(
      problemsOf((r) => {
        r.accounts = [{ ...account, provider: "aws" }];
        r.credentials["aws-test"]!.provider = "amazon";
      }),
      [`credentials.aws-test.provider: unknown provider "amazon"; known providers: ${known}`],
    );
    assert.deepEqual(
      problemsOf((r) => (r.accounts = [{ id: "prod", credentials: "aws-test", provider: "gcp", projects: ["my-project"] }])),
      ["accounts[0].credentials: names a aws credential, but the account's provider is gcp"],
      "a mismatch of two known providers is still named",
    );
    assert.deepEqual(
      problemsOf((r) => (r.accountDiscovery = { maxConcurentListings: 3 })),
      ['accountDiscovery: unknown key "maxConcurentListings" (did you mean "maxConcurrentListings"?)'],
    );
  });

  it("a cluster or account naming credentials that are not an entry, even a name every object has", () => {
    assert.deepEqual(
      problemsOf((r) => {
        r.clusters[0]!.credentials = "constructor";
        r.accounts = [{ id: "prod", provider: "aws", credentials: "toString", regions: ["us-east-1"] }];
      }).sort(),
      [
        'accounts[0].credentials: names "toString", which is not an entry of credentials',
        'clusters[0].credentials: names "constructor", which is not an entry of credentials',
      ],
    );
  });

  it("words any union by provider the same way, whatever message the union itself sets (the accounts list's)", () => {
    const account = (provider: string, scope: string) =>
      z.strictObject({ provider: z.literal(provider), id: z.string(), credentials: z.string(), [scope]: z.array(z.string()) });
    const schema = z.strictObject({
      accounts: z
        .array(
          z.discriminatedUnion("provider", [account("aws", "regions"), account("gcp", "projects")], {
            error: (issue) => (issue.code === "invalid_union" ? "provider must be one whose accounts can be discovered" : undefined),
          }),
        )
        .default([]),
    });
    const problems = (input: unknown) => {
      const result = schema.safeParse(input, { reportInput: true });
      assert.equal(result.success, false);
      return result.error!.issues.flatMap((issue) => configProblems(issue, schema));
    };
    assert.deepEqual(problems({ accounts: [{ provder: "aws", id: "a", credentials: "c", regoins: ["us-east-1"] }] }), [
      'accounts[0]: unknown key "provder" (did you mean "provider"?)',
      'accounts[0]: unknown key "regoins" (did you mean "regions"?)',
      "accounts[0].provider: is required: one of aws, gcp",
    ]);
    assert.deepEqual(problems({ accounts: [{ provider: "gpc", id: "a", credentials: "c", projects: ["p"] }] }), [
      'accounts[0].provider: unknown provider "gpc" (did you mean "gcp"?); known providers: aws, gcp',
    ]);
    assert.deepEqual(problems({ accounts: [{ provider: "aws", id: "a", credentials: "c", regions: [], projcts: ["p"] }] }), [
      'accounts[0]: unknown key "projcts"',
    ]);
  });
});

describe("closestName", () => {
  const keys = ["provider", "region", "name", "id", "credentials", "certificateAuthorityData"];

  it("finds a slip: a transposition, a missing or doubled letter, another case", () => {
    assert.equal(closestName("provdier", keys), "provider");
    assert.equal(closestName("provder", keys), "provider");
    assert.equal(closestName("credentialss", keys), "credentials");
    assert.equal(closestName("certificateauthoritydata", keys), "certificateAuthorityData");
    assert.equal(closestName("Region", keys), "region");
  });

  it("does not match what is merely different, nor short names loosely", () => {
    assert.equal(closestName("endpoint", keys), undefined);
    assert.equal(closestName("ip", ["id", "name"]), "id");
    assert.equal(closestName("xy", ["id"]), undefined);
    assert.equal(closestName("x".repeat(65), ["x".repeat(64)]), undefined);
  });

  it("prefers the closest, then the first listed", () => {
    assert.equal(closestName("regino", ["regions", "region"]), "region");
    assert.equal(closestName("ab", ["ac", "bb"]), "ac");
  });
});
