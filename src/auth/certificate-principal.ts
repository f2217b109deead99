import type { PeerCertificate } from "node:tls";
import { certPrincipal, type Principal } from "./principal.js";
import { spiffeIdProblem, spiffeScheme } from "./spiffe-id.js";

/** Splits Node's `subjectaltname` ("URI:spiffe://a/b, DNS:x, IP Address:1.2.3.4"), whose values may be JSON-quoted. */
function subjectAltNames(subjectaltname: string | undefined): { type: string; value: string }[] {
  const names: { type: string; value: string }[] = [];
  const pattern = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const [, type = "", raw = ""] of (subjectaltname ?? "").matchAll(pattern)) {
    names.push({ type, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return names;
}

/** Who a certificate stands for, why it stands for nobody, or that it names no one. */
export type CertificateIdentity = { principal: Principal } | { problem: string } | undefined;

/**
 * The principal a verified client certificate stands for: its SPIFFE ID (a URI SAN
 * `spiffe://…`, parsed by the SPIFFE rules; an invalid one is a problem, never a
 * name), else `cert:` and its first DNS SAN, else `cert:` and its subject CN.
 * Undefined when it has none of these.
 */
export function principalFromCertificate(certificate: Pick<PeerCertificate, "subjectaltname" | "subject">): CertificateIdentity {
  const sans = subjectAltNames(certificate.subjectaltname);
  const spiffe = sans.find((n) => n.type === "URI" && n.value.toLowerCase().startsWith(spiffeScheme));
  if (spiffe) {
    const problem = spiffeIdProblem(spiffe.value);
    return problem ? { problem: `the certificate's SPIFFE ID ${problem}` } : { principal: { name: spiffe.value, kind: "spiffe" } };
  }
  const cn = certificate.subject?.CN as string | string[] | undefined;
  const name = sans.find((n) => n.type === "DNS")?.value || (Array.isArray(cn) ? cn[0] : cn);
  return name ? { principal: certPrincipal(name) } : undefined;
}
