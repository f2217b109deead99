import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** RFC 9113 frame types, by number. */
export const frameTypes = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
/** RFC 9113 §7 error codes used in the tests. */
export const errorCodes = {
  NO_ERROR: 0,
  INTERNAL_ERROR: 2,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
} as const;

const endStream = 0x1;
const endHeaders = 0x4;
const maxFrameSize = 16_384;

/** A frame the server sent. */
export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** RST_STREAM's or GOAWAY's error code. */
  errorCode?: number;
}

/** HPACK (RFC 7541 §5.1) integer with an `prefixBits`-bit prefix. */
function hpackInteger(value: number, prefixBits: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [value];
  const bytes = [max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** HPACK literal header field without indexing, new name (RFC 7541 §6.2.2), no Huffman coding: what a decoder must accept. */
function hpackLiteral(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1");
  const v = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from([0x00, ...hpackInteger(n.length, 7)]), n, Buffer.from(hpackInteger(v.length, 7)), v]);
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/**
 * An HTTP/2 client that writes frames as given and records every frame the server
 * sends, for what a library client would refuse to send or hide: oversized header
 * lists, streams that never send a message, the exact reset and GOAWAY codes.
 */
export class RawHttp2Connection {
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on("data", (data: Buffer) => this.receive(data));
    socket.on("error", () => {});
    socket.once("close", () => (this.closed = true));
  }

  /**
   * Connects to `host:port` (over TLS when `ca` is given, with ALPN h2) and sends the
   * client preface; from `localAddress` when given (another loopback address, such as
   * 127.0.0.2, for a client the server must not take for an earlier one).
   */
  static async open(address: string, ca?: Buffer, localAddress?: string): Promise<RawHttp2Connection> {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon);
    const port = Number(address.slice(colon + 1));
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = ca
        ? tlsConnect({ host, port, ca, ALPNProtocols: ["h2"], servername: "localhost", ...(localAddress ? { localAddress } : {}) }, () =>
            resolve(s),
          )
        : netConnect({ host, port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
      s.once("error", reject);
    });
    const connection = new RawHttp2Connection(socket);
    socket.write(
      Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), frame(frameTypes.SETTINGS, 0, 0, Buffer.alloc(0))]),
    );
    return connection;
  }

  /**
   * Opens stream `streamId` with a gRPC POST to `path` and `headers` (which replace
   * the defaults of the same name), split into
   * HEADERS and CONTINUATION frames; with `message`, sends it as one length-prefixed
   * gRPC message and ends the stream.
   */
  request(streamId: number, path: string, headers: [string, string][] = [], message?: Buffer): void {
    const defaults: [string, string][] = [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", path],
      [":authority", "localhost"],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
    // A header given replaces the default of that name.
    const given = new Set(headers.map(([name]) => name));
    const block = Buffer.concat(
      [...defaults.filter(([name]) => !given.has(name)), ...headers].map(([name, value]) => hpackLiteral(name, value)),
    );
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < block.length; offset += maxFrameSize) chunks.push(block.subarray(offset, offset + maxFrameSize));
    chunks.forEach((chunk, i) => {
      const last = i === chunks.length - 1 ? endHeaders : 0;
      this.socket.write(frame(i === 0 ? frameTypes.HEADERS : frameTypes.CONTINUATION, last, streamId, chunk));
    });
    if (message !== undefined) {
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      this.socket.write(frame(frameTypes.DATA, endStream, streamId, Buffer.concat([prefix, message])));
    }
  }

  /** Resolves with the first frame (from the start) that matches, or rejects after `timeoutMs`. */
  async waitFor(match: (frame: ReceivedFrame) => boolean, timeoutMs = 5_000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map(describe))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }

  private receive(data: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, data]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const type = this.buffered.readUInt8(3);
      const payload = Buffer.from(this.buffered.subarray(9, 9 + length));
      const received: ReceivedFrame = {
        type,
        flags: this.buffered.readUInt8(4),
        streamId: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload,
      };
      if (type === frameTypes.RST_STREAM) received.errorCode = payload.readUInt32BE(0);
      if (type === frameTypes.GOAWAY) received.errorCode = payload.readUInt32BE(4);
      this.frames.push(received);
      this.buffered = this.buffered.subarray(9 + length);
    }
  }
}

function describe(frame: ReceivedFrame): string {
  const name = Object.entries(frameTypes).find(([, n]) => n === frame.type)?.[0] ?? String(frame.type);
  return `${name}(${frame.streamId}${frame.errorCode !== undefined ? `, ${frame.errorCode}` : ""})`;
}
