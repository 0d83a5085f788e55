/**
 * Basic auth in front of the schema registry, for tests. Apicurio Registry 3 secures its
 * API only through OIDC, so a test that needs a registry asking for a user and password
 * puts this proxy in front of it: requests with the right `Authorization: Basic` header
 * are forwarded, every other one is answered 401 the way a Confluent registry answers.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RegistryAuthProxy {
  /** The registry's URL through the proxy (same path as the target's). */
  readonly url: string;
  /** Requests let through to the registry with the right credentials. */
  readonly forwarded: number;
  /** Requests answered 401: no credentials or wrong ones. */
  readonly refused: number;
  close(): Promise<void>;
}

export interface RegistryAuthProxyOptions {
  /** The real registry, e.g. `http://127.0.0.1:18081/apis/ccompat/v7`. */
  target: string;
  username: string;
  password: string;
}

/** The `Authorization` header value for basic auth. */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export async function startRegistryAuthProxy(options: RegistryAuthProxyOptions): Promise<RegistryAuthProxy> {
  const target = new URL(options.target);
  const expected = Buffer.from(basicAuthHeader(options.username, options.password));
  const counts = { forwarded: 0, refused: 0 };

  const authorized = (header: string | undefined): boolean => {
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const server = http.createServer((req, res) => {
    if (!authorized(req.headers.authorization)) {
      counts.refused++;
      req.resume();
      res.writeHead(401, {
        'content-type': 'application/vnd.schemaregistry.v1+json',
        'www-authenticate': 'Basic realm="schema-registry"',
      });
      res.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    counts.forwarded++;
    const { authorization: _, host: __, ...headers } = req.headers;
    const upstream = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`registry auth proxy: ${err.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/+$/, '')}`,
    get forwarded() {
      return counts.forwarded;
    },
    get refused() {
      return counts.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
