/**
 * Checks before the demo starts anything, each failing with one line that says what to do: the
 * ports it needs are free.
 */
import net from 'node:net';
import { loadDevnetState } from '../devnet';

export class DemoPreflightError extends Error {
  override name = 'DemoPreflightError';
}

export interface PortNeed {
  port: number;
  what: string;
  /** The option that changes it, for the message. */
  flag: string;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function checkPortsFree(needs: PortNeed[], host = '127.0.0.1'): Promise<void> {
  for (const n of needs) {
    if (!(await portFree(n.port, host))) {
      throw new DemoPreflightError(
        `port ${n.port} (${n.what}) is in use on ${host}; stop whatever uses it (another demo or Temporal?) or choose another with ${n.flag}`,
      );
    }
  }
}

/** The devnet's ports: the saved network's when there is one, else basePort … basePort+2+nodes. */
export function devnetPortNeeds(stateFile: string, basePort: number, nodes: number): PortNeed[] {
  const saved = loadDevnetState(stateFile);
  const flag = '--devnet-port (or --reset for a new network)';
  if (saved && saved.basePort === basePort) {
    return [
      { port: saved.ports.rpc, what: 'devnet chain RPC', flag },
      { port: saved.ports.blockIndexer, what: 'devnet block indexer', flag },
      { port: saved.ports.admin, what: 'devnet admin API', flag },
      ...saved.nodes.map((n, i) => ({ port: n.port, what: `devnet node ${i}`, flag })),
    ];
  }
  return Array.from({ length: 3 + nodes }, (_, i) => ({
    port: basePort + i,
    what: ['devnet chain RPC', 'devnet block indexer', 'devnet admin API'][i] ?? `devnet node ${i - 3}`,
    flag: '--devnet-port',
  }));
}
