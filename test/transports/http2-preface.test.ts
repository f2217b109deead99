import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { awaitHttp2Preface, checkHttp2Preface } from "../../src/transports/http2-preface.js";

const magic = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** A SETTINGS frame header (RFC 9113 §4.1) with `length` bytes of payload. */
function settings(length: number, flags = 0, streamId = 0): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(length, 0, 3);
  header[3] = 0x4;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, Buffer.alloc(length)]);
}

describe("checkHttp2Preface", () => {
  it("waits for the magic and a whole SETTINGS frame", () => {
    const whole = Buffer.concat([magic, settings(12)]);
    for (let cut = 0; cut < whole.length; cut++) assert.equal(checkHttp2Preface(whole.subarray(0, cut)), "incomplete", `${cut} bytes`);
    assert.equal(checkHttp2Preface(whole), "complete");
    assert.equal(checkHttp2Preface(Buffer.concat([whole, Buffer.from("more frames")])), "complete");
  });

  it("knows at the first wrong byte that it is not HTTP/2", () => {
    assert.equal(checkHttp2Preface(Buffer.from("G")), "invalid");
    assert.equal(checkHttp2Preface(Buffer.from("GET / HTTP/1.1\r\n")), "invalid");
    assert.equal(checkHttp2Preface(Buffer.from([0x16, 0x03, 0x01])), "invalid", "a TLS ClientHello on a plaintext port");
  });

  it("refuses a first frame that is not a plausible SETTINGS", () => {
    const ping = settings(8);
    ping[3] = 0x6;
    for (const frame of [ping, settings(0, 0x1), settings(6, 0, 1), settings(7), settings(6 * 33)])
      assert.equal(checkHttp2Preface(Buffer.concat([magic, frame])), "invalid");
  });
});

describe("awaitHttp2Preface", () => {
  let server: Server;
  const accepted: Socket[] = [];
  before(async () => {
    server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => {
    for (const socket of accepted) socket.destroy();
    server.close();
  });

  async function pair(): Promise<{ client: Socket; server: Socket }> {
    const count = accepted.length;
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    client.on("error", () => {});
    while (accepted.length === count) await new Promise((resolve) => setTimeout(resolve, 5));
    return { client, server: accepted.at(-1)! };
  }

  const outcome = (socket: Socket) => new Promise<boolean>((resolve) => awaitHttp2Preface(socket, resolve));

  it("calls back once the preface has arrived in pieces, and leaves every byte in the socket", async () => {
    const { client, server: socket } = await pair();
    const done = outcome(socket);
    const sent = Buffer.concat([magic, settings(6), Buffer.from("the first request")]);
    for (let i = 0; i < sent.length; i += 7) {
      client.write(sent.subarray(i, i + 7));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.equal(await done, true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(buffered(socket), sent, "the HTTP/2 session that takes the socket over reads all of it");
  });

  /** What `socket` holds to be read now. */
  function buffered(socket: Socket): Buffer {
    const kept: Buffer[] = [];
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) kept.push(chunk);
    return Buffer.concat(kept);
  }

  it("calls back false at once for bytes that are no preface, and leaves them for the HTTP/1.1 parser; false when the client ends first", async () => {
    const garbage = await pair();
    const refused = outcome(garbage.server);
    garbage.client.write("GET / HTTP/1.1\r\n");
    assert.equal(await refused, false);
    assert.equal(buffered(garbage.server).toString("latin1"), "GET / HTTP/1.1\r\n");
    const ended = await pair();
    const half = outcome(ended.server);
    ended.client.end(magic.subarray(0, 10));
    assert.equal(await half, false);
  });
});
