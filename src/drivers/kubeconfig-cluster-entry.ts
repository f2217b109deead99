import { parse } from "yaml";
import { upstreamBadResponse, type UpstreamCall } from "../errors/upstream-error.js";
import type { ClusterAccess } from "./driver.js";

interface KubeconfigDoc {
  clusters?: { cluster?: { server?: unknown; "certificate-authority-data"?: unknown } }[];
}

/**
 * The server and CA of the first cluster entry of a kubeconfig that a cloud's API
 * returned (NKS, ACK). Nothing else of it is read: its user entry holds the signing
 * identity's own credential, which the service never passes on.
 *
 * @throws ServiceError UPSTREAM_BAD_RESPONSE when `kubeconfig` is not a kubeconfig with both.
 */
export function kubeconfigClusterEntry(kubeconfig: unknown, call: UpstreamCall): ClusterAccess {
  let entry;
  try {
    if (typeof kubeconfig !== "string") throw new Error("no kubeconfig in the response");
    entry = (parse(kubeconfig) as KubeconfigDoc | null)?.clusters?.[0]?.cluster;
  } catch (err) {
    throw upstreamBadResponse(call, err);
  }
  const server = entry?.server;
  const certificateAuthorityData = entry?.["certificate-authority-data"];
  if (typeof server !== "string" || typeof certificateAuthorityData !== "string") {
    throw upstreamBadResponse(call, new Error("the kubeconfig has no cluster server or CA"));
  }
  return { server, certificateAuthorityData };
}
