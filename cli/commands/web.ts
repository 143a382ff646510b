// `bpfspec web`: serve the page (`npm run build:web` writes dist/web/index.html) on localhost. A tiny
// static server: the one file, nothing else, no directory listing; it runs until interrupted.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { InputError } from '../io.js';

export interface WebFlags {
  readonly port: string;
  readonly host: string;
  readonly dir?: string;
}

/** Where `npm run build:web` puts the page, seen from dist/cli/commands/web.js. */
export const DEFAULT_PAGE_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Check the flags and read the page; InputError (one line, exit 2) on anything wrong. */
export function webOptions(o: WebFlags): { port: number; host: string; page: Buffer; file: string } {
  if (!/^\d{1,5}$/.test(o.port) || Number(o.port) > 65535) throw new InputError(`--port ${o.port}: expected a port number 0..65535 (0: any free port)`);
  if (!/^[\w.:-]+$/.test(o.host)) throw new InputError(`--host ${o.host}: expected a host name or address`);
  const file = join(o.dir === undefined ? DEFAULT_PAGE_DIR : resolve(o.dir), 'index.html');
  let page: Buffer;
  try {
    page = readFileSync(file);
  } catch {
    throw new InputError(`${file}: the page is not built (run npm run build:web${o.dir === undefined ? '' : ' -- --out DIR'})`);
  }
  return { port: Number(o.port), host: o.host, page, file };
}

/** Start serving; resolves with the server once it listens (its URL printed through `say`). */
export function serveWeb(o: WebFlags, say: (line: string) => void): Promise<Server> {
  const { port, host, page, file } = webOptions(o);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split(/[?#]/)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the page is at /\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': page.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : page);
  });
  return new Promise((resolveP, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new InputError(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
      const shown = host.includes(':') ? `[${host}]` : host;
      say(`serving ${file} at http://${shown}:${actual}/ (Ctrl-C stops)`);
      resolveP(server);
    });
  });
}

/** Serve until SIGINT or SIGTERM, then close and return. */
export async function runWeb(o: WebFlags, say: (line: string) => void): Promise<void> {
  const server = await serveWeb(o, say);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => done());
      server.closeAllConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
