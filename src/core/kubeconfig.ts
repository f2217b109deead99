import { stringify } from "yaml";
import { defaultExecCredentialApiVersion } from "./exec-credential.js";

/** How a kubeconfig's user authenticates. */
export type KubeconfigUser =
  /** An embedded bearer token. */
  | { token: string }
  /** A credential plugin: kubectl runs `command args…` and reads an ExecCredential from its stdout. */
  | { exec: { command: string; args: string[] } };

/** What a kubeconfig is rendered from. */
export interface KubeconfigInput {
  /** Names the cluster, the user and the context alike. */
  name: string;
  /** The API server URL. */
  server: string;
  /** Base64 PEM of the cluster CA, as kubeconfig's certificate-authority-data. */
  certificateAuthorityData: string;
  user: KubeconfigUser;
}

/** Shown by kubectl when the exec command is missing. */
const installHint =
  "cluster-token is the credential command of cluster-token-service; install its package so that cluster-token is on PATH.";

/**
 * Renders a kubeconfig with one cluster, one user and one context, all named after
 * the cluster id, and current-context set, so that `kubectl --kubeconfig FILE` works
 * without further flags. An exec user never prompts (`interactiveMode: Never`), so
 * CI jobs and operators get the same non-interactive behaviour.
 */
export function renderKubeconfig({ name, server, certificateAuthorityData, user }: KubeconfigInput): string {
  const userEntry =
    "token" in user
      ? { token: user.token }
      : {
          exec: {
            apiVersion: defaultExecCredentialApiVersion,
            command: user.exec.command,
            args: user.exec.args,
            interactiveMode: "Never",
            provideClusterInfo: false,
            installHint,
          },
        };
  return stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server, "certificate-authority-data": certificateAuthorityData } }],
      users: [{ name, user: userEntry }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      "current-context": name,
      preferences: {},
    },
    { lineWidth: 0 },
  );
}
