import { defineProvider } from "../provider-module.js";
import { lazyDrivers } from "../lazy-drivers.js";
import { gcpAccountSchema, gcpClusterSchema, gcpCredentialSchema, gcpProviderName, gkeScope } from "./gcp-config.js";

/** Google GKE: OAuth2 access tokens, `clusters.get` and `clusters.list`, through google-auth-library (imported once configured). */
export const gcpProvider = defineProvider({
  name: gcpProviderName,
  credentialSchema: gcpCredentialSchema,
  clusterSchema: gcpClusterSchema,
  secretShapes: {
    patterns: [
      // OAuth2 access tokens, and the refresh tokens of user credentials (Application Default Credentials).
      /ya29\.[\w.-]+/g,
      /\b1\/\/[\w-]{20,}/g,
      // A service-account key's private key, as in its JSON file (newlines escaped) or as PEM.
      /-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA )?PRIVATE KEY-----/g,
    ],
    fields: ["private_key", "refresh_token", "access_token", "accessToken"],
  },
  discovery: {
    accountSchema: gcpAccountSchema,
    filterKey: "labels",
    scopes: (account) => account.projects.flatMap((project) => account.locations.map((location) => gkeScope(project, location))),
  },
  placement: ({ region, name }) => ({ region, name }),
  /** The drivers share one google-auth-library client per credential entry. */
  create(credentials, options) {
    return lazyDrivers(
      async () => {
        const [{ GcpCredentialSource }, { GkeClusterDescriber }, { GkeTokenDriver }, { GkeClusterLister }] = await Promise.all([
          import("./gcp-credentials.js"),
          import("./gke-describer.js"),
          import("./gke-driver.js"),
          import("./gke-lister.js"),
        ]);
        const sources = new Map(Object.entries(credentials).map(([name, entry]) => [name, new GcpCredentialSource(entry, options)]));
        return { token: new GkeTokenDriver(sources), describer: new GkeClusterDescriber(sources), lister: new GkeClusterLister(sources) };
      },
      { lister: true },
    );
  },
});
