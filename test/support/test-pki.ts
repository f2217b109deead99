import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const openssl = (...args: string[]) => promisify(execFile)("openssl", args);

/** A certificate and its key, as files and PEM. */
export interface IssuedCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A throwaway certificate authority made with openssl for one test run. */
export interface TestPki {
  dir: string;
  ca: IssuedCert;
  /** Base64 of the CA PEM, as a kubeconfig's certificate-authority-data. */
  caData: string;
  /** Issues a leaf certificate: `sans` like ["IP:127.0.0.1", "URI:spiffe://…"], for TLS server or client use. */
  issue(name: string, options: { cn: string; sans?: string[]; usage: "server" | "client"; days?: number }): Promise<IssuedCert>;
  /** Issues a client certificate that expired yesterday (valid for one day, two days ago). */
  issueExpired(name: string, options: { cn: string; sans?: string[] }): Promise<IssuedCert>;
}

async function load(certFile: string, keyFile: string): Promise<IssuedCert> {
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** Creates a CA (EC P-256, valid two days) in a fresh temporary directory. */
/** `openssl req` arguments for a new, unencrypted P-256 key. */
const newP256Key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A new P-256 key and a certificate signing request for `/CN=<cn>`. */
function newKeyAndRequest(key: string, csr: string, cn: string): Promise<unknown> {
  return openssl("req", "-new", ...newP256Key, "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`);
}

export async function createTestPki(caName = "cluster-token-service test CA"): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "cts-pki-"));
  const caCert = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  await openssl(
    "req",
    "-x509",
    ...newP256Key,
    "-keyout",
    caKey,
    "-out",
    caCert,
    "-days",
    "2",
    "-subj",
    `/CN=${caName}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  const ca = await load(caCert, caKey);
  return {
    dir,
    ca,
    caData: ca.cert.toString("base64"),
    async issue(name, { cn, sans = [], usage, days = 2 }) {
      const [key, csr, cert, ext] = ["key", "csr", "crt", "ext"].map((suffix) => join(dir, `${name}.${suffix}`)) as [
        string,
        string,
        string,
        string,
      ];
      await writeFile(
        ext,
        [
          "basicConstraints=CA:FALSE",
          `extendedKeyUsage=${usage === "server" ? "serverAuth" : "clientAuth"}`,
          ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
        ].join("\n"),
      );
      await newKeyAndRequest(key, csr, cn);
      await openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caCert,
        "-CAkey",
        caKey,
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        String(days),
        "-extfile",
        ext,
      );
      return load(cert, key);
    },
    async issueExpired(name, { cn, sans = [] }) {
      // `openssl ca` is the OpenSSL 3.0 way to backdate a certificate.
      const [key, csr, cert, conf, index] = ["key", "csr", "crt", "cnf", "index"].map((suffix) => join(dir, `${name}.${suffix}`)) as [
        string,
        string,
        string,
        string,
        string,
      ];
      await writeFile(index, "");
      await writeFile(
        conf,
        [
          "[ca]",
          "default_ca = test_ca",
          "[test_ca]",
          `database = ${index}`,
          `new_certs_dir = ${dir}`,
          `certificate = ${caCert}`,
          `private_key = ${caKey}`,
          "rand_serial = yes",
          "default_md = sha256",
          "policy = any",
          "unique_subject = no",
          "copy_extensions = none",
          "x509_extensions = leaf",
          "[any]",
          "commonName = supplied",
          "[leaf]",
          "basicConstraints = CA:FALSE",
          "extendedKeyUsage = clientAuth",
          ...(sans.length > 0 ? [`subjectAltName = ${sans.join(",")}`] : []),
        ].join("\n"),
      );
      await newKeyAndRequest(key, csr, cn);
      const stamp = (daysAgo: number) => `${new Date(Date.now() - daysAgo * 86_400_000).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
      await openssl("ca", "-batch", "-config", conf, "-in", csr, "-out", cert, "-startdate", stamp(2), "-enddate", stamp(1), "-notext");
      return load(cert, key);
    },
  };
}
