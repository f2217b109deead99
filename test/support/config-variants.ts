import assert from "node:assert/strict";
import { stringify } from "yaml";
import { ConfigError, parseConfig } from "../../src/config/load-config.js";
import { providers } from "../../src/providers.js";
import { rawTestConfig } from "./test-config.js";

/** The raw test config, typed so that a test can change any cluster or credentials entry. */
export type Raw = ReturnType<typeof rawTestConfig> & {
  clusters: Record<string, unknown>[];
  credentials: Record<string, Record<string, unknown>>;
};

/** The raw test config with one change made by `change`: how a validation test builds the config it feeds the loader. */
export const withChange = (change: (raw: Raw) => void): Raw => {
  const raw = rawTestConfig() as Raw;
  change(raw);
  return raw;
};

/**
 * Every problem the config loader names for `raw` (an object, written as YAML, or YAML text),
 * checking that it refuses it with a ConfigError whose message names the file; a config it
 * accepts fails the test.
 */
export function problemsOf(raw: unknown): readonly string[] {
  try {
    parseConfig(providers, typeof raw === "string" ? raw : stringify(raw), "/etc/cts/config.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^invalid config \/etc\/cts\/config\.yaml:/);
    return err.problems;
  }
  return assert.fail("expected a ConfigError");
}
