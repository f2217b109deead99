/**
 * The `cluster-token` command. Each subcommand lives in its own module and is
 * imported only when chosen, so that a light subcommand never pays for loading the
 * server's dependencies.
 */
const usage = `usage: cluster-token <command> [options]

commands:
  serve [--config FILE]   start the service; the config is FILE, else $CLUSTER_TOKEN_CONFIG,
                          else the embedded development config
        [--listen-grpc HOST:PORT] [--listen-http HOST:PORT]   override listen.grpc and listen.http
  credential --cluster ID --server URL [--ca-file F] [--cert-file F --key-file F]
             [--api-key-file F | --api-key-env NAME]
                          print an ExecCredential for kubectl, fetched from the service at URL
  keygen --name NAME      make an API key and the SHA-256 to put in the config
  help                    show this text
`;

const subcommands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  serve: () => import("./serve-command.js"),
  credential: () => import("./credential-command.js"),
  keygen: () => import("./keygen-command.js"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  const load = subcommands[name];
  if (!load) {
    process.stderr.write(`cluster-token: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  return (await load()).run(args);
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
