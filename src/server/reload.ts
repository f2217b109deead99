import type { Logger } from "pino";
import type { ServiceConfig } from "../config/config-schema.js";
import { ConfigError } from "../config/load-config.js";
import { fixedKeysChanged } from "../config/reload-rules.js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";
import type { Service } from "../service.js";
import type { TlsServer } from "./listeners.js";
import { readTlsMaterial, secureContext, type TlsMaterial } from "./tls-material.js";

/** What a reload did. */
export type ReloadResult = { applied: true } | { applied: false; problems: string[] };

/**
 * Reads the next config (the settled, validated file, with the command line's
 * overrides applied). It throws a `ConfigError` for a file that cannot be used, and
 * gives up when `signal` aborts.
 */
export type ConfigReader = (signal: AbortSignal) => Promise<ServiceConfig>;

/** Options of {@link Reloader}. */
export interface ReloaderOptions {
  logger: Logger;
  /** Counts each reload in `cluster_token_config_reloads_total`. */
  metrics: ServiceMetrics;
  /** Builds the service of `next`; `previous`, the one it replaces, hands over what stays valid (the discovery cache). */
  build(next: ServiceConfig, previous: Service): Service;
  /** The TLS servers of the listeners, which get the new certificate, key and client CA. */
  tlsServers(): readonly TlsServer[];
  /**
   * Told once a reload is applied, with its config: what outlives services (account
   * discovery, the secret reference check) follows it.
   */
  applied?(config: ServiceConfig): void;
}

/**
 * Live reload: replaces the running service with one built from a new config,
 * without dropping a connection or a call. A call in flight finishes on the service
 * it started on, which closes once its last call has ended.
 *
 * A reload is applied whole or not at all, and every reason not to apply it goes
 * through one refusal: a file that cannot be read, has not settled or is invalid;
 * keys that cannot change while running; TLS files that cannot be read or do not
 * form a usable certificate, key and client CA (checked as at start-up); a service
 * that cannot be built; a shutdown under way. A refusal keeps the running config,
 * logs every problem in one line and counts one failure.
 *
 * Reloads run one at a time. Requests that arrive while one runs are folded into a
 * single next reload, so a burst of signals costs at most two.
 */
export class Reloader {
  private service: Service;
  private readonly stopping = new AbortController();
  private running: Promise<ReloadResult> | undefined;
  private queued: Promise<ReloadResult> | undefined;

  constructor(
    initial: Service,
    private readonly options: ReloaderOptions,
  ) {
    this.service = initial;
  }

  /** The service new calls go to. */
  get current(): Service {
    return this.service;
  }

  /** Reloads from what `read` returns, after the reload under way (if any); resolves with the outcome, never rejects. */
  reload(read: ConfigReader): Promise<ReloadResult> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = undefined;
        return this.reload(read);
      });
      return this.queued;
    }
    this.running = this.run(read).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Refuses every later reload, abandons one waiting for its file, and closes the current service. */
  async close(): Promise<void> {
    this.stopping.abort(new Error("the service is shutting down"));
    await this.running;
    await this.service.close();
  }

  private async run(read: ConfigReader): Promise<ReloadResult> {
    const { logger, metrics, tlsServers } = this.options;
    let next: Prepared | { problems: string[] };
    try {
      next = await this.prepare(read);
    } catch (err) {
      // An abandoned wait for the file says why it was abandoned, not that it was.
      const reason: unknown = this.stopping.signal.aborted ? this.stopping.signal.reason : err;
      next = { problems: reason instanceof ConfigError ? [...reason.problems] : [(reason as Error).message] };
    }
    if ("problems" in next) return this.refuse(next.problems);
    const { config, tls, service } = next;
    try {
      if (tls) for (const server of tlsServers()) server.setSecureContext(secureContext(tls));
    } catch (err) {
      // Not expected: the same options made a secure context when the files were checked.
      void service.close();
      return this.refuse([`the listeners refused the new TLS files (${(err as { code?: string }).code ?? "error"})`]);
    }
    const previous = this.service;
    this.service = service;
    void previous.close();
    this.options.applied?.(config);
    logger.level = config.logging.level;
    metrics.configReloaded(true);
    logger.info(
      {
        clusters: config.clusters.length,
        accounts: config.accounts.length,
        apiKeys: config.security.apiKeys.length,
        tls: tls !== undefined,
      },
      "config reloaded",
    );
    return { applied: true };
  }

  /** The one way a reload is refused: the running config stays, one log line lists every problem, one failure is counted. */
  private refuse(problems: string[]): ReloadResult {
    this.options.metrics.configReloaded(false);
    this.options.logger.error({ problems }, "config reload refused; the running config stays");
    return { applied: false, problems };
  }

  /**
   * Everything a reload needs, checked before anything changes: the config, then
   * the fixed keys and the TLS material (every problem of both at once), then the
   * service. Throws what reading the config or building the service threw.
   */
  private async prepare(read: ConfigReader): Promise<Prepared | { problems: string[] }> {
    const signal = this.stopping.signal;
    signal.throwIfAborted();
    const config = await read(signal);
    const fixed = fixedKeysChanged(this.service.config, config).map((key) => `${key} cannot change while running; restart to change it`);
    const { material: tls, problems } = await readTlsMaterial(config.security.tls);
    signal.throwIfAborted();
    if (fixed.length + problems.length > 0) return { problems: [...fixed, ...problems] };
    return { config, tls, service: this.options.build(config, this.service) };
  }
}

/** A reload ready to apply. */
interface Prepared {
  config: ServiceConfig;
  tls: TlsMaterial | undefined;
  service: Service;
}
