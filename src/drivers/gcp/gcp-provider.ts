import { defineProvider } from "../provider-module.js";
import { gcpClusterSchema, gcpCredentialSchema } from "./gcp-config.js";
import { GcpCredentialSource } from "./gcp-credentials.js";
import { GkeClusterDescriber } from "./gke-describer.js";
import { GkeTokenDriver } from "./gke-driver.js";

/** Google GKE: OAuth2 access tokens and `clusters.get`, through google-auth-library. */
export const gcpProvider = defineProvider({
  name: "gcp",
  credentialSchema: gcpCredentialSchema,
  clusterSchema: gcpClusterSchema,
  /** The drivers share one google-auth-library client per credential entry. */
  create(credentials, options) {
    const sources = new Map(Object.entries(credentials).map(([name, entry]) => [name, new GcpCredentialSource(entry, options)]));
    return { token: new GkeTokenDriver(sources), describer: new GkeClusterDescriber(sources) };
  },
});
