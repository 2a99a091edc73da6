/**
 * Starts the central server: HTTPS when given a certificate and key, plain
 * HTTP otherwise (then only on loopback, for the demo and tests).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { centralApp, centralServices, type CentralPolicy, type CentralServices } from './central-app';
import { openCentralStore } from './central-store';
import type { TrustedAuthorKey } from './model-registry';

export interface CentralOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  /** Author public keys whose packages may be published, each bound to the model ids it may sign. */
  readonly trustedKeys: readonly TrustedAuthorKey[];
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Rate limits, catalogue validity, where internal errors are logged; defaults in central-app.ts. */
  readonly policy?: CentralPolicy;
}

export interface RunningCentral {
  readonly url: string;
  readonly services: CentralServices;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startCentral(options: CentralOptions): Promise<RunningCentral> {
  if (options.tls === undefined && !LOOPBACK.has(options.host))
    throw new Error(`plain HTTP is served on loopback only; give --cert and --key to listen on ${options.host}`);
  const store = openCentralStore(options.dataDir);
  const services = centralServices(store, options.trustedKeys, options.policy);
  const callback = centralApp(services).callback();
  const handler = (req: IncomingMessage, res: ServerResponse): void => { void callback(req, res); };
  const server: Server = options.tls === undefined
    ? createHttpServer(handler)
    : createHttpsServer({ cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) }, handler);
  // Sites poll with keep-alive; idle sockets are released well before a proxy's typical 60 s.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => { resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${String(port)}`,
    services,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
      await services.training.idle();
      services.counters.flush();
      services.audit.close();
      store.db.close();
    },
  };
}
