import { asksForHelp, type CommandName, isCommandName, usage, usageOf } from "./command-usage.js";

/**
 * The `cluster-token` command. Each subcommand lives in its own module and is
 * imported only when chosen, so that a light subcommand never pays for loading the
 * server's dependencies; help is answered before any of them loads.
 */
const subcommands: Record<CommandName, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  serve: () => import("./serve-command.js"),
  credential: () => import("./credential-command.js"),
  keygen: () => import("./keygen-command.js"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const [topic] = args;
    if (name === "help" && topic !== undefined) {
      if (!isCommandName(topic)) return unknownCommand(topic);
      process.stdout.write(usageOf(topic));
      return 0;
    }
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (!isCommandName(name)) return unknownCommand(name);
  if (asksForHelp(args)) {
    process.stdout.write(usageOf(name));
    return 0;
  }
  return (await subcommands[name]()).run(args);
}

function unknownCommand(name: string): number {
  process.stderr.write(`cluster-token: unknown command ${JSON.stringify(name)}\n\n${usage}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cluster-token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
