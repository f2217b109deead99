import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { listenerTls, readTlsMaterial, secureContext } from "../../src/server/tls-material.js";
import { createTestPki, type IssuedCert, type TestPki } from "../support/test-pki.js";

describe("TLS material: read and checked once, for start-up and reload alike", () => {
  let pki: TestPki;
  let server: IssuedCert;
  let other: IssuedCert;
  let dir: string;
  /** Writes `content` to a fresh file and returns its path. */
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  before(async () => {
    pki = await createTestPki();
    server = await pki.issue("server", { cn: "cluster-token-service", sans: ["DNS:localhost"], usage: "server" });
    other = await pki.issue("other", { cn: "other", usage: "server" });
    dir = await mkdtemp(join(tmpdir(), "cts-tls-material-"));
  });

  it("reads a certificate, its key and a client CA, and projects them for the listeners and for a rotation", async () => {
    const bundle = await file("bundle.pem", `# Issuer: test CA\n${pki.ca.cert}\n# a second copy\n${pki.ca.cert}`);
    const { material, problems } = await readTlsMaterial({ certFile: server.certFile, keyFile: server.keyFile, clientCaFile: bundle });
    assert.deepEqual(problems, []);
    assert.ok(material);
    assert.deepEqual(material.cert, server.cert);
    assert.deepEqual(listenerTls(material), { cert: server.cert, key: server.key, ca: material.clientCa, requireClientCert: true });
    assert.deepEqual(secureContext(material), { cert: server.cert, key: server.key, ca: material.clientCa });
    const plain = await readTlsMaterial({ certFile: server.certFile, keyFile: server.keyFile });
    assert.deepEqual(listenerTls(plain.material!), { cert: server.cert, key: server.key, requireClientCert: false });
    assert.deepEqual(await readTlsMaterial(undefined), { material: undefined, problems: [] }, "plaintext has nothing to read");
  });

  it("accepts a certificate file that also holds its key", async () => {
    const combined = await file("combined.pem", Buffer.concat([server.key, server.cert]));
    assert.deepEqual((await readTlsMaterial({ certFile: combined, keyFile: server.keyFile })).problems, []);
  });

  it("refuses an empty, garbage, corrupt or mixed client CA bundle, naming the key and the file", async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ["empty.pem", "", /^security\.tls\.clientCaFile \S+empty\.pem holds no PEM certificate$/],
      ["garbage.pem", "not a certificate at all\n", /garbage\.pem holds no PEM certificate$/],
      ["corrupt.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", /PEM block 1 is not a valid X\.509 certificate$/],
      ["mixed.pem", Buffer.concat([pki.ca.cert, server.key]), /mixed\.pem: PEM block 2 is a PRIVATE KEY, not a CERTIFICATE$/],
    ];
    for (const [name, content, expected] of cases) {
      const ca = await file(name, content);
      const { material, problems } = await readTlsMaterial({ certFile: server.certFile, keyFile: server.keyFile, clientCaFile: ca });
      assert.equal(material, undefined, name);
      assert.equal(problems.length, 1, `${name}: ${problems.join("; ")}`);
      assert.match(problems[0]!, expected);
    }
  });

  it("reports every problem at once, in the order of the keys, and never a file's content", async () => {
    const badKey = await file("bad.key", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n");
    const { problems } = await readTlsMaterial({
      certFile: join(dir, "missing.crt"),
      keyFile: badKey,
      clientCaFile: await file("e.pem", ""),
    });
    assert.deepEqual(
      problems.map((p) => p.replace(dir, "DIR")),
      [
        "cannot read security.tls.certFile DIR/missing.crt (ENOENT)",
        "security.tls.keyFile DIR/bad.key is not a PEM private key without a passphrase",
        "security.tls.clientCaFile DIR/e.pem holds no PEM certificate",
      ],
    );
    assert.ok(!problems.join("\n").includes("c2VjcmV0"), "the key's bytes appear nowhere");
  });

  it("refuses a key that is not the certificate's", async () => {
    const { material, problems } = await readTlsMaterial({ certFile: server.certFile, keyFile: other.keyFile });
    assert.equal(material, undefined);
    assert.deepEqual(problems, [
      `security.tls.certFile ${server.certFile} is not the certificate of security.tls.keyFile ${other.keyFile}`,
    ]);
  });
});
