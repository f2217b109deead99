// CommonJS on purpose: `bin.cjs` installs these handlers before it loads anything else, so that no signal
// finds the process without them. It uses Node's built-ins only.

/** Where `cluster-token serve` is in its life: a signal means something different in each. */
type Phase = "starting" | "serving" | "stopping";

/** What the serving process does on SIGHUP and SIGUSR1. */
interface SignalRoutes {
  /** SIGHUP while serving: reload the config. */
  hangup(): void;
  /** SIGUSR1 while serving. */
  user1(): void;
}

/** Writes one structured log line. */
type Log = (fields: Record<string, unknown>, message: string) => void;

/** The signals that end the process gracefully. */
type StopSignal = "SIGTERM" | "SIGINT";

let guarded = false;
let phase: Phase = "starting";
let routes: SignalRoutes | undefined;
let log: Log | undefined;
/** SIGHUPs and SIGUSR1s that arrived before there was a logger, reported once there is one. */
const unlogged = new Map<string, number>();

/**
 * Installs the handlers of SIGUSR1 and SIGHUP: the first thing `cluster-token
 * serve` does, and idempotent.
 *
 * - **SIGUSR1 never opens a debugger.** Node opens its inspector on SIGUSR1 (on
 *   127.0.0.1:9229) unless JavaScript listens for the signal, and through the
 *   inspector anyone may read every cloud secret out of memory. Listening keeps it
 *   closed, on every Node line; an inspector a SIGUSR1 opened before this ran is
 *   closed here, unless `--inspect` asked for one. The image also runs Node with
 *   `--disable-sigusr1`, which covers the instants before this runs.
 * - **SIGHUP never ends the process**, whose default action it is: while starting
 *   or stopping it is ignored with a log line, and while serving it reloads.
 */
function guard(): void {
  if (guarded) return;
  guarded = true;
  process.on("SIGUSR1", () => received("SIGUSR1"));
  process.on("SIGHUP", () => received("SIGHUP"));
  closeSignalledInspector();
}

/** Logs through `write` from now on, beginning with the signals that arrived before. */
function logTo(write: Log): void {
  log = write;
  for (const [signal, count] of unlogged) ignored(signal, count);
  unlogged.clear();
}

/**
 * Routes SIGHUP and SIGUSR1 to `serving` and resolves with the first SIGTERM or
 * SIGINT, from which on the process is stopping: SIGHUP and SIGUSR1 are ignored with
 * a log line, and a second SIGTERM or SIGINT takes its default action, ending the
 * process at once.
 */
function serve(serving: SignalRoutes): Promise<StopSignal> {
  guard();
  routes = serving;
  // A signal that arrived while the service was starting may still sit unread in libuv's signal pipe: start-up can
  // finish within the callback that read the config (listening needs no event-loop turn), before the loop polls for
  // that signal. Serving begins after the next poll phase, so that such a signal is still handled as one received
  // while starting (seen on Node 26, where it was otherwise taken for a reload).
  setImmediate(() =>
    setImmediate(() => {
      if (phase === "starting") phase = "serving";
    }),
  );
  return new Promise((resolve) => {
    const stop = (signal: StopSignal) => {
      process.removeListener("SIGTERM", stop);
      process.removeListener("SIGINT", stop);
      phase = "stopping";
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

function received(signal: "SIGHUP" | "SIGUSR1"): void {
  if (phase === "serving" && routes) {
    if (signal === "SIGHUP") routes.hangup();
    else routes.user1();
  } else if (log) ignored(signal, 1);
  else unlogged.set(signal, (unlogged.get(signal) ?? 0) + 1);
}

function ignored(signal: string, count: number): void {
  const why = phase === "starting" ? "the service is starting" : "the service is shutting down";
  log?.({ signal, count, phase }, `${signal} ignored: ${why}`);
}

/** Closes an inspector that a SIGUSR1 opened before {@link guard} ran; one that `--inspect` asked for stays. */
function closeSignalledInspector(): void {
  const requested = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((arg) =>
    /^--inspect(-brk|-wait)?(=|$)/.test(arg),
  );
  if (requested) return;
  try {
    const inspector: typeof import("node:inspector") = require("node:inspector");
    if (inspector.url() !== undefined) inspector.close();
  } catch {
    // A Node built without the inspector has nothing to close.
  }
}

export = { guard, logTo, serve };
