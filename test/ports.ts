import { createServer } from 'node:net';

/**
 * The first of `count` consecutive free loopback ports (the devnet takes several from one base:
 * chain RPC, block indexer, admin API, then its nodes). Free when probed; a test starting a process
 * on them right after is racing nobody but other tests of this machine.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const servers: ReturnType<typeof createServer>[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const s = createServer();
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(base + i, '127.0.0.1', () => resolve());
        });
        servers.push(s);
      }
      return base;
    } catch {
      // taken; try another range
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error('no free port range found');
}
