/**
 * One small HTTP server per worker for operators: `/healthz` (the process is alive), `/readyz`
 * (the worker is running and polling Temporal), `/metrics` (the project's metrics followed by the
 * Temporal runtime's own, which the SDK serves on an internal loopback port).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionKeeperMetrics } from './metrics';

export interface OperatorEndpointOptions {
  host: string;
  port: number;
  metrics?: SessionKeeperMetrics;
  /** URL of the Temporal runtime's Prometheus endpoint, appended to `/metrics`. */
  temporalMetricsUrl?: string;
  isReady: () => boolean;
}

export interface OperatorEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function startOperatorEndpoint(opts: OperatorEndpointOptions): Promise<OperatorEndpoint> {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
      if (path === '/readyz') {
        const ready = opts.isReady();
        return send(res, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'not ready\n');
      }
      if (path === '/metrics' && opts.metrics) {
        let body = await opts.metrics.render();
        if (opts.temporalMetricsUrl) {
          const temporal = await fetch(opts.temporalMetricsUrl, { signal: AbortSignal.timeout(2_000) })
            .then((r) => (r.ok ? r.text() : ''))
            .catch(() => '');
          body += `\n${temporal}`;
        }
        return send(res, 200, opts.metrics.contentType, body);
      }
      send(res, 404, 'text/plain', 'not found\n');
    } catch (err) {
      send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}
