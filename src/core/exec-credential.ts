// Constants only: `cluster-token credential` imports this module, and loads nothing it does not need.

/** The ExecCredential apiVersion kubectl expects by default since Kubernetes 1.22. */
export const defaultExecCredentialApiVersion = "client.authentication.k8s.io/v1";

/** The ExecCredential apiVersions this service answers with. v1alpha1 was removed from Kubernetes in 1.24. */
export const execCredentialApiVersions: readonly string[] = [defaultExecCredentialApiVersion, "client.authentication.k8s.io/v1beta1"];

/** The `kind` of every GenerateToken response. */
export const execCredentialKind = "ExecCredential";
