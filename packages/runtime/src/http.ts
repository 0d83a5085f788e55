/**
 * GET /metrics (Prometheus text format), GET /healthz (the process runs) and
 * GET /readyz (every runner has its state restored and is consuming).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { type ReadinessSource, reportReadiness } from './metrics.ts';

/** A runner as /healthz and /readyz see it. */
export interface HealthSource extends ReadinessSource {
  isAlive(): boolean;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  sources: () => readonly HealthSource[];
}): Promise<OpsServer> {
  // The registry's churn_ready gauge says what /readyz says, runner by runner.
  reportReadiness(options.registry, options.sources);
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (url === '/metrics') {
      options.registry.metrics().then(
        (text) => send(200, text, options.registry.contentType),
        (err: Error) => send(500, `${err.message}\n`),
      );
      return;
    }
    if (url === '/healthz' || url === '/readyz') {
      const sources = options.sources();
      const check = url === '/healthz' ? (s: HealthSource) => s.isAlive() : (s: HealthSource) => s.isReady();
      const status = Object.fromEntries(sources.map((s) => [s.name, check(s)]));
      const ok = sources.length > 0 && Object.values(status).every(Boolean);
      return send(ok ? 200 : 503, `${JSON.stringify({ ok, ...status })}\n`, 'application/json');
    }
    return send(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
