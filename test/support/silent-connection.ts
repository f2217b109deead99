import type { Socket } from "node:net";
import { connect } from "node:net";

/** Opens a TCP connection that never sends a byte; resolves once connected, with when it was closed by the server. */
export function silentConnection(address: string): Promise<{ socket: Socket; connectedAt: number; closed: Promise<number> }> {
  const colon = address.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now())));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, connectedAt: performance.now(), closed }));
    socket.once("close", () => reject(new Error("closed before connecting")));
  });
}
