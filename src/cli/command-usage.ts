/**
 * What `cluster-token help` prints: every command with every option it parses. Each
 * command's section is also its `--help` and follows its usage errors. A test
 * compares each section's flags and defaults with the options the command parses
 * (`test/cli/command-usage.test.ts`), so that neither can change without the other.
 */
export const commandUsage = {
  serve: `  serve          start the service; stop it with SIGTERM or SIGINT, reload its config with SIGHUP
    -c, --config FILE          the config file; else $CLUSTER_TOKEN_CONFIG, else the embedded
                               development config (plaintext, demo keys: never for real use)
    --listen-grpc HOST:PORT    listen for gRPC here instead of listen.grpc (port 0: any free port)
    --listen-http HOST:PORT    listen for Connect here instead of listen.http
    -h, --help                 show this text
`,
  credential: `  credential     print an ExecCredential for kubectl (an exec plugin), fetched from the service
    --cluster ID               the cluster's id, as ListClusters shows it (required)
    --server URL               the service's Connect URL, http(s)://host:port (required)
    --identity NAME            the cloud identity to mint with (a credentials entry your grants give);
                               needed when they give several, and written into exec kubeconfigs
    --timeout SECONDS          how long to wait for the service, 1 to 300 (default 10)
    --no-cache                 always ask the service: no token is read from or written to the cache
                               in $CLUSTER_TOKEN_CACHE_DIR (default ~/.kube/cache/cluster-token)
    --ca-file PEM              the CA bundle that signed the service's certificate
    --cert-file PEM            a client certificate (mTLS), with --key-file
    --key-file PEM             the client certificate's private key
    --api-key-file FILE        authenticate with the API key in FILE
    --api-key-env NAME         authenticate with the API key in the environment variable NAME
    -h, --help                 show this text
`,
  keygen: `  keygen         make an API key, and the SHA-256 of it to put in the config
    --name NAME                the name the key authenticates as, 1 to 128 of [A-Za-z0-9_.@-] (required)
    --json                     print one JSON line {name, key, sha256} instead of text and YAML
    -h, --help                 show this text
`,
} as const;

/** A command of {@link commandUsage}. */
export type CommandName = keyof typeof commandUsage;

/** The whole text of `cluster-token help`. */
export const usage = `usage: cluster-token <command> [options]
       cluster-token <command> --help
       cluster-token help [<command>]

commands:
${Object.values(commandUsage).join("\n")}
  help           show this text, or one command's

environment:
  CLUSTER_TOKEN_CONFIG       serve: the config file when --config is absent
  CLUSTER_TOKEN_CACHE_DIR    credential: where tokens are cached (default ~/.kube/cache/cluster-token)
  KUBERNETES_EXEC_INFO       credential: set by kubectl; says which ExecCredential apiVersion to print
`;

/** Each command's line: what it needs, then its other options. */
const synopses: Record<CommandName, string> = {
  serve: "serve [--config FILE] [--listen-grpc HOST:PORT] [--listen-http HOST:PORT]",
  credential: "credential --cluster ID --server URL [options]",
  keygen: "keygen --name NAME [--json]",
};

/** The usage of one command: its line and its section. */
export function usageOf(command: CommandName): string {
  return `usage: cluster-token ${synopses[command]}\n\n${commandUsage[command]}`;
}

/** True when `name` is a command with a section in {@link commandUsage}. */
export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandUsage, name);
}

/** True when `args` ask for help (`--help` or `-h`) rather than for the command to run. */
export function asksForHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}
