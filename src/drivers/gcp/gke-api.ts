import { raceAbort } from "../../common/deadline.js";
import { abandonedError, type UpstreamCall } from "../../errors/upstream-error.js";
import { maxUpstreamResponseBytes } from "../upstream-fetch.js";
import type { GcpCredentialSource } from "./gcp-credentials.js";
import { gcpServiceError } from "./gcp-errors.js";

/** The GKE API, where `projects.locations.clusters` lives. */
export const defaultGkeApiEndpoint = "https://container.googleapis.com";

/** A GKE `Cluster` resource: the fields the service reads, as unchecked JSON. */
export interface GkeCluster {
  name?: unknown;
  location?: unknown;
  endpoint?: unknown;
  status?: unknown;
  masterAuth?: { clusterCaCertificate?: unknown };
  resourceLabels?: unknown;
}

/** The URL of `projects.locations.clusters` of a project and location, on `apiEndpoint` or Google's. */
export function gkeClustersUrl(apiEndpoint: string | undefined, project: string, location: string): string {
  const base = (apiEndpoint ?? defaultGkeApiEndpoint).replace(/\/+$/, "");
  return `${base}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/clusters`;
}

/**
 * GETs JSON from the GKE API with the google-auth-library client of `source`, which
 * attaches its bearer token: one attempt (the client's own retry of a refused token
 * aside), every request the library makes for it bounded by `signal`, no redirect
 * followed (a bearer token goes to the configured host only), and a body of at most
 * `maxBytes`. Failures are mapped to portable errors.
 */
export async function gkeGet<T>(
  source: GcpCredentialSource,
  call: UpstreamCall,
  url: string,
  signal: AbortSignal,
  maxBytes = maxUpstreamResponseBytes,
): Promise<T> {
  try {
    // Building the client can itself reach Google (Application Default Credentials), so it runs within the attempt too.
    const request = source.withAttempt(signal, async () =>
      (await source.client()).request<T>({ url, method: "GET", signal, responseType: "json", maxContentLength: maxBytes, maxRedirects: 0 }),
    );
    return (await raceAbort(request, signal, () => abandonedError(call, signal))).data;
  } catch (err) {
    throw gcpServiceError(err, call, signal);
  }
}
