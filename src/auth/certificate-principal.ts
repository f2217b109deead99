import type { PeerCertificate } from "node:tls";

/** Splits Node's `subjectaltname` ("URI:spiffe://a/b, DNS:x, IP Address:1.2.3.4"), whose values may be JSON-quoted. */
function subjectAltNames(subjectaltname: string | undefined): { type: string; value: string }[] {
  const names: { type: string; value: string }[] = [];
  const pattern = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = pattern.exec(subjectaltname ?? ""); m; m = pattern.exec(subjectaltname ?? "")) {
    const raw = m[2]!;
    names.push({ type: m[1]!, value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return names;
}

/**
 * The principal a verified client certificate stands for: its first URI SAN
 * (SPIFFE-style, e.g. `spiffe://corp.example/ns/ci/sa/deployer`), else its first DNS
 * SAN, else its subject CN. Undefined when it has none of these.
 */
export function principalFromCertificate(certificate: Pick<PeerCertificate, "subjectaltname" | "subject">): string | undefined {
  const sans = subjectAltNames(certificate.subjectaltname);
  const cn = certificate.subject?.CN as string | string[] | undefined;
  return sans.find((n) => n.type === "URI")?.value || sans.find((n) => n.type === "DNS")?.value || (Array.isArray(cn) ? cn[0] : cn) || undefined;
}
