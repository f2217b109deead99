import type { Logger } from "pino";
import type { ServiceConfig } from "../config/config-schema.js";
import type { Listeners } from "./listeners.js";

/**
 * The start-up line: where each listener is, and how callers are authenticated, so
 * that an operator (and a test) reads the bound ports and the security posture from
 * one line; a loud warning first in plaintext.
 */
export function logServing(logger: Logger, config: ServiceConfig, listeners: Listeners): void {
  const { security } = config;
  const [grpc, http] = [listeners.grpc.address, listeners.http.address];
  if (security.insecurePlaintext) {
    logger.warn(
      { grpc, http },
      "INSECURE: plaintext listeners without authentication; every caller may get every credential (security.insecurePlaintext)",
    );
  }
  const fields = {
    grpc,
    http,
    ...(listeners.metrics ? { metrics: listeners.metrics.address } : {}),
    ...(listeners.health ? { health: listeners.health.address } : {}),
    clusters: config.clusters.length,
    accounts: config.accounts.length,
    tls: security.tls !== undefined,
    mtls: security.tls?.clientCaFile !== undefined,
    apiKeys: security.apiKeys.length,
  };
  logger.info(fields, "serving");
}
