/**
 * Local servers that misbehave the way issue 17 saw networks do: one that accepts connections and
 * never answers (an RPC or indexer that hangs), and one that answers 200 and streams a body
 * without end (an indexer gone wrong). Both count what they saw, so tests can wait for a request
 * to be in flight and check that the client let go of every connection.
 */
import http from 'node:http';
import net from 'node:net';

export interface HungServer {
  url: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Connections still open (the client has not closed them). */
  open(): number;
  /** Connections that have sent at least one byte (a request is waiting for its answer). */
  waiting(): number;
  close(): Promise<void>;
}

/** Accepts TCP connections, reads what arrives and never writes a byte back. */
export async function startHungServer(): Promise<HungServer> {
  const sockets = new Set<net.Socket>();
  const talked = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => talked.add(socket));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      talked.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    open: () => sockets.size,
    waiting: () => talked.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface StreamingServer {
  url: string;
  /** Bytes written into responses so far. */
  sent(): number;
  /** Responses still streaming (the client has not hung up). */
  streaming(): number;
  close(): Promise<void>;
}

/**
 * Answers every request with 200, `application/json` and no length, then writes chunks for ever
 * (as fast as the client reads them, or `chunkBytes` every `intervalMs` when given).
 */
export async function startStreamingServer(
  opts: { chunkBytes?: number; intervalMs?: number } = {},
): Promise<StreamingServer> {
  const chunk = Buffer.alloc(opts.chunkBytes ?? 64 * 1024, 0x20);
  chunk.write('{"blockhash":"');
  let sent = 0;
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    res.writeHead(200, { 'content-type': 'application/json' });
    const pump = () => {
      while (!res.destroyed) {
        sent += chunk.length;
        const more = res.write(chunk);
        if (opts.intervalMs !== undefined) {
          setTimeout(pump, opts.intervalMs);
          return;
        }
        if (!more) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/get_most_recent_valid_block`,
    sent: () => sent,
    streaming: () => open.size,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
