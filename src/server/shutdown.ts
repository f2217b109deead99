import { setTimeout as delay } from "node:timers/promises";
import type { ServingHealth } from "../transports/serving-health.js";
import type { Listeners } from "./listeners.js";

/** What a shutdown stops, in order. */
export interface ShutdownParts {
  health: ServingHealth;
  listeners: Listeners;
  /**
   * Closed one after the other once no call can arrive or is still in flight: the
   * service (its drivers), then the audit sink, which writes what it holds first.
   */
  release: readonly (() => Promise<void>)[];
}

/**
 * The graceful end of the process's listeners, in two steps that callers may run
 * apart (SIGTERM) or together (SIGINT, tests):
 *
 * 1. {@link drain}: health turns NOT_SERVING on every port (gRPC health, the health
 *    port, `/readyz`) while calls are still accepted and served, for as long as
 *    endpoints and load balancers take to stop sending traffic here;
 * 2. {@link close}: the call listeners (gRPC, HTTP) stop accepting; calls in flight
 *    get the grace period to finish, after which every connection still open,
 *    handshakes included, is destroyed. Then the metrics and health ports close
 *    (they answered NOT_SERVING throughout), then each of `release` in order.
 */
export class Shutdown {
  private closing: Promise<void> | undefined;

  constructor(private readonly parts: ShutdownParts) {}

  /** Reports NOT_SERVING at once, then resolves after `delayMs`, calls being served all along. */
  async drain(delayMs: number): Promise<void> {
    this.parts.health.setServing(false);
    if (delayMs > 0) await delay(delayMs);
  }

  /** Runs the close once; later calls share it. `graceMs` bounds how long calls in flight may take. */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.run(graceMs);
    return this.closing;
  }

  private async run(graceMs: number): Promise<void> {
    const { health, listeners, release } = this.parts;
    health.setServing(false);
    const calls = [listeners.grpc, listeners.http];
    const forced = setTimeout(() => {
      for (const listener of calls) listener.destroy();
    }, graceMs);
    await Promise.all(calls.map((listener) => listener.close()));
    clearTimeout(forced);
    const operations = [listeners.metrics, listeners.health].filter((listener) => listener !== undefined);
    for (const listener of operations) listener.destroy();
    await Promise.all(operations.map((listener) => listener.close()));
    for (const next of release) await next();
  }
}
