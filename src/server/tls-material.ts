import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { ServiceConfig } from "../config/config-schema.js";
import type { ListenerTls } from "../transports/http-listener.js";

/** The `security.tls` block of the config. */
type TlsConfig = NonNullable<ServiceConfig["security"]["tls"]>;

/**
 * The TLS files of both listeners, read and checked together: the certificate chain
 * parses and its first certificate matches the key, the client CA bundle (mTLS) is
 * one or more X.509 certificates and nothing else, and Node's TLS accepts the three
 * as one secure context. Built by {@link readTlsMaterial} only.
 */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Present when mTLS is on: client certificates are required and verified against it. */
  readonly clientCa: Buffer | undefined;
}

/** The outcome of {@link readTlsMaterial}: every problem found, and the material when there is none (undefined in plaintext). */
export interface TlsMaterialResult {
  material: TlsMaterial | undefined;
  problems: string[];
}

/** A PEM block: `-----BEGIN LABEL-----`, base64, `-----END LABEL-----`. Text between blocks (comments in CA bundles) is allowed. */
const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
/** The PEM label of an X.509 certificate (RFC 7468 §5). */
const certificateLabel = "CERTIFICATE";

/**
 * Reads and checks the TLS files `tls` names, reporting every problem at once, each
 * naming its key and file (never the files' contents). Start-up and reload use this
 * one function, so a reload refuses exactly what start-up would refuse: an empty or
 * garbage client CA, a certificate that does not parse, a key that does not match.
 * Plaintext (no `tls`) has no material and no problem.
 */
export async function readTlsMaterial(tls: TlsConfig | undefined): Promise<TlsMaterialResult> {
  if (!tls) return { material: undefined, problems: [] };
  const problems: string[] = [];
  // Read together, reported in the order of the keys, whichever read fails first.
  const reads = await Promise.all([
    readTlsFile("certFile", tls.certFile),
    readTlsFile("keyFile", tls.keyFile),
    tls.clientCaFile === undefined ? undefined : readTlsFile("clientCaFile", tls.clientCaFile),
  ]);
  for (const read of reads) if (typeof read === "string") problems.push(read);
  const [cert, key, clientCa] = reads.map((read) => (typeof read === "string" ? undefined : read));
  const chain = cert && certificates(cert, `security.tls.certFile ${tls.certFile}`, problems, { othersAllowed: true });
  const privateKey = key && parsePrivateKey(key, `security.tls.keyFile ${tls.keyFile}`, problems);
  if (clientCa && tls.clientCaFile)
    certificates(clientCa, `security.tls.clientCaFile ${tls.clientCaFile}`, problems, { othersAllowed: false });
  if (chain?.[0] && privateKey && !chain[0].checkPrivateKey(privateKey))
    problems.push(`security.tls.certFile ${tls.certFile} is not the certificate of security.tls.keyFile ${tls.keyFile}`);
  if (problems.length > 0 || !cert || !key) return { material: undefined, problems };
  const material: TlsMaterial = { cert, key, clientCa };
  try {
    // The final word is Node's: what it refuses here, a listener or a rotation would refuse too.
    createSecureContext(secureContext(material));
  } catch (err) {
    return {
      material: undefined,
      problems: [`Node's TLS refuses the certificate, key or client CA (${(err as { code?: string }).code ?? "error"})`],
    };
  }
  return { material, problems: [] };
}

/** The options of both TLS listeners (gRPC and HTTPS): the secure context, and mTLS when a client CA is set. */
export function listenerTls(material: TlsMaterial): ListenerTls {
  return { ...secureContext(material), requireClientCert: material.clientCa !== undefined };
}

/** The secure context a rotation sets on a running TLS listener: new handshakes get it, established connections keep theirs. */
export function secureContext({ cert, key, clientCa }: TlsMaterial): SecureContextOptions {
  return clientCa ? { cert, key, ca: clientCa } : { cert, key };
}

/**
 * The X.509 certificates of a PEM file, in order; a problem for a file with none, a
 * certificate block that does not parse, or (unless `othersAllowed`, for a
 * certificate file that also holds its key) a block that is not a certificate.
 */
function certificates(pem: Buffer, name: string, problems: string[], { othersAllowed }: { othersAllowed: boolean }): X509Certificate[] {
  const found: X509Certificate[] = [];
  let index = 0;
  let certificateBlocks = 0;
  for (const [block, label] of pem.toString("latin1").matchAll(pemBlock)) {
    index++;
    if (label !== certificateLabel) {
      if (!othersAllowed) problems.push(`${name}: PEM block ${index} is a ${label}, not a ${certificateLabel}`);
      continue;
    }
    certificateBlocks++;
    try {
      found.push(new X509Certificate(block));
    } catch {
      problems.push(`${name}: PEM block ${index} is not a valid X.509 certificate`);
    }
  }
  // A bundle of nothing but other blocks has each reported already.
  if (certificateBlocks === 0 && (index === 0 || othersAllowed)) problems.push(`${name} holds no PEM certificate`);
  return found;
}

/** The file's bytes, or the problem that it cannot be read. */
async function readTlsFile(what: keyof TlsConfig, file: string): Promise<Buffer | string> {
  try {
    return await readFile(file);
  } catch (err) {
    return `cannot read security.tls.${what} ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
}

function parsePrivateKey(pem: Buffer, name: string, problems: string[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    problems.push(`${name} is not a PEM private key without a passphrase`);
    return undefined;
  }
}
