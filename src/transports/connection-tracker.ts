import type { Server, Socket } from "node:net";

/**
 * Keeps every raw connection of `server`, from accept to close, so that the end of
 * a grace period can destroy them all: `server.close()` waits for every socket,
 * including one still in its TLS handshake, which no HTTP/2 or HTTP shutdown sees.
 */
export function trackConnections(server: Server): { destroyAll(): void } {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
