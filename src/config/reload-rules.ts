import type { ServiceConfig } from "./config-schema.js";

/**
 * What a reload cannot change, because listeners, limits and the audit sink are
 * built once: the listen addresses, the limits, the audit sink, the shutdown timing,
 * plaintext or TLS, mTLS on or off, and reflection. Everything else may change:
 * clusters, credentials, grants, API keys, the rate limit, the TLS files' contents,
 * discovery, the token cache, kubeconfig settings and the log level.
 */
const fixedKeys: readonly { key: string; value: (config: ServiceConfig) => unknown }[] = [
  { key: "listen", value: (c) => c.listen },
  { key: "limits", value: (c) => c.limits },
  { key: "audit", value: (c) => c.audit },
  { key: "shutdown", value: (c) => c.shutdown },
  { key: "security.insecurePlaintext", value: (c) => c.security.insecurePlaintext },
  { key: "security.reflection", value: (c) => c.security.reflection },
  { key: "security.tls (on or off)", value: (c) => c.security.tls !== undefined },
  { key: "security.tls.clientCaFile (mTLS on or off)", value: (c) => c.security.tls?.clientCaFile !== undefined },
];

/** The keys that differ between the running config and `next` but cannot change while running. */
export function fixedKeysChanged(running: ServiceConfig, next: ServiceConfig): string[] {
  return fixedKeys.filter(({ value }) => JSON.stringify(value(running)) !== JSON.stringify(value(next))).map(({ key }) => key);
}
