import type { Duplex } from "node:stream";

/** RFC 9113 §3.4: every HTTP/2 client connection starts with these 24 octets… */
const clientPrefaceMagic = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** …followed by a SETTINGS frame (RFC 9113 §6.5), whose 9-octet frame header (§4.1) gives its length and type. */
const frameHeaderLength = 9;
const settingsFrameType = 0x4;
/** RFC 9113 §6.5: the flag of a SETTINGS frame that acknowledges the peer's, which a preface never is. */
const settingsAcknowledgedFlag = 0x1;
/** Each setting is 6 octets (§6.5.1). */
const settingLength = 6;
/** No client sends more settings than the protocol defines; Node refuses more than 32 in a SETTINGS frame (`maxSettings`). */
const maxPrefaceSettings = 32;

/** What the bytes received so far say. */
type PrefaceCheck = "complete" | "incomplete" | "invalid";

/** Checks `received` against the client preface: the magic, then one SETTINGS frame (not an ACK, on stream 0). */
export function checkHttp2Preface(received: Buffer): PrefaceCheck {
  const magicSeen = Math.min(received.length, clientPrefaceMagic.length);
  if (!received.subarray(0, magicSeen).equals(clientPrefaceMagic.subarray(0, magicSeen))) return "invalid";
  if (received.length < clientPrefaceMagic.length + frameHeaderLength) return "incomplete";
  const header = received.subarray(clientPrefaceMagic.length);
  const length = header.readUIntBE(0, 3);
  const type = header.readUInt8(3);
  const flags = header.readUInt8(4);
  const streamId = header.readUInt32BE(5) & 0x7fffffff;
  if (type !== settingsFrameType || flags & settingsAcknowledgedFlag || streamId !== 0) return "invalid";
  if (length % settingLength !== 0 || length > maxPrefaceSettings * settingLength) return "invalid";
  return received.length >= clientPrefaceMagic.length + frameHeaderLength + length ? "complete" : "incomplete";
}

/**
 * Calls `done(true)` once `socket` has sent a whole HTTP/2 client preface, or
 * `done(false)` as soon as what it sent cannot be one (or it ended first). The
 * bytes read are put back into the socket, where whichever takes it over reads them
 * first: an HTTP/2 session (Node replays a socket's buffered data into a new
 * session), or Node's HTTP/1.1 parser when they were not a preface. At most a few
 * hundred bytes are read: HTTP/1.1 is told apart by its first byte.
 *
 * The gRPC listener waits for it so that grpc-js holds no session for a client that
 * sent one byte and stalled (such a client stays a bare socket that the connection
 * guard closes); the Connect listener, so that a gRPC client at the wrong port is
 * answered in HTTP/2 rather than closed by the HTTP/1.1 parser. Until `done`, an
 * error (a reset) destroys the socket rather than going unhandled. `done` is called
 * at most once; nothing is called after the socket closes.
 */
export function awaitHttp2Preface(socket: Duplex, done: (complete: boolean) => void): void {
  let received: Buffer = Buffer.alloc(0);
  const stop = () => {
    socket.removeListener("readable", onReadable);
    socket.removeListener("end", onEnd);
    socket.removeListener("error", onError);
    socket.removeListener("close", stop);
  };
  const onReadable = () => {
    const chunks = [received];
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) chunks.push(chunk);
    // At most a few hundred bytes are held before the preface is complete or found invalid.
    received = Buffer.concat(chunks);
    const check = checkHttp2Preface(received);
    if (check === "incomplete") return;
    stop();
    socket.unshift(received);
    done(check === "complete");
  };
  // Ended before its first bytes said anything: nothing to put back, and no HTTP/2.
  const onEnd = () => {
    stop();
    done(false);
  };
  const onError = () => socket.destroy();
  socket.on("readable", onReadable);
  socket.once("end", onEnd);
  socket.on("error", onError);
  socket.once("close", stop);
}
