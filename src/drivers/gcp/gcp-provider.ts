import { defineProvider, lazyDrivers } from "../provider-module.js";
import { gcpClusterSchema, gcpCredentialSchema } from "./gcp-config.js";

/** Google GKE: OAuth2 access tokens and `clusters.get`, through google-auth-library (imported once configured). */
export const gcpProvider = defineProvider({
  name: "gcp",
  credentialSchema: gcpCredentialSchema,
  clusterSchema: gcpClusterSchema,
  /** The drivers share one google-auth-library client per credential entry. */
  create(credentials, options) {
    return lazyDrivers(async () => {
      const [{ GcpCredentialSource }, { GkeClusterDescriber }, { GkeTokenDriver }] = await Promise.all([
        import("./gcp-credentials.js"),
        import("./gke-describer.js"),
        import("./gke-driver.js"),
      ]);
      const sources = new Map(Object.entries(credentials).map(([name, entry]) => [name, new GcpCredentialSource(entry, options)]));
      return { token: new GkeTokenDriver(sources), describer: new GkeClusterDescriber(sources) };
    });
  },
});
