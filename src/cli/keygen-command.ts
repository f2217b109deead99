import { parseArgs } from "node:util";
import { apiKeyNamePattern, generateApiKey } from "../auth/api-keys.js";
import { usageOf } from "./command-usage.js";

/** The options `cluster-token keygen` parses; its help (`command-usage.ts`) lists each. */
export const keygenOptions = { name: { type: "string" }, json: { type: "boolean", default: false } } as const;

/**
 * `cluster-token keygen --name NAME`: makes an API key and its SHA-256. The key is
 * printed once for the caller; only the hash goes into the service's config.
 */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: keygenOptions, strict: true }));
  } catch (err) {
    process.stderr.write(`cluster-token keygen: ${(err as Error).message}\n\n${usageOf("keygen")}`);
    return 2;
  }
  const name = values.name;
  if (!name || !apiKeyNamePattern.test(name)) {
    process.stderr.write(
      `cluster-token keygen: --name is required: 1 to 128 characters of [A-Za-z0-9_.@-]; it becomes the principal "key:NAME"\n\n${usageOf("keygen")}`,
    );
    return 2;
  }
  const { key, sha256 } = generateApiKey();
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ name, key, sha256 })}\n`
      : `# API key for "${name}". Give it to the caller now: it is shown once and stored nowhere.\n${key}\n\n# Add to the service config:\nsecurity:\n  apiKeys:\n    - name: ${name}\n      sha256: ${sha256}\n`,
  );
  return 0;
}
