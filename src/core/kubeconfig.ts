import { stringify } from "yaml";

/** What a kubeconfig is rendered from. */
export interface KubeconfigInput {
  /** Names the cluster, the user and the context alike. */
  name: string;
  /** The API server URL. */
  server: string;
  /** Base64 PEM of the cluster CA, as kubeconfig's certificate-authority-data. */
  certificateAuthorityData: string;
  /** How the user authenticates: an embedded bearer token. */
  user: { token: string };
}

/**
 * Renders a kubeconfig with one cluster, one user and one context, all named after
 * the cluster id, and current-context set, so that `kubectl --kubeconfig FILE` works
 * without further flags.
 */
export function renderKubeconfig({ name, server, certificateAuthorityData, user }: KubeconfigInput): string {
  return stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name, cluster: { server, "certificate-authority-data": certificateAuthorityData } }],
      users: [{ name, user }],
      contexts: [{ name, context: { cluster: name, user: name } }],
      "current-context": name,
      preferences: {},
    },
    { lineWidth: 0 },
  );
}
