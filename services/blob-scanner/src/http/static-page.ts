import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * The page's files, read once at start: index.html, style.css and the modules in js/ (listed from the
 * directory here, so no path from a request ever reaches the file system).
 */
export function loadPage(dir: URL = new URL('../page/', import.meta.url)): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const cache = new Map<string, Asset>();
  const modules = readdirSync(new URL('js/', dir)).filter((f) => /^[a-z0-9-]+\.js$/.test(f));
  const files = {
    ...FILES,
    ...Object.fromEntries(
      modules.map((f) => [`/js/${f}`, { file: `js/${f}`, type: 'text/javascript; charset=utf-8' }]),
    ),
  };
  for (const [path, { file, type }] of Object.entries(files)) {
    let asset = cache.get(file);
    if (!asset) {
      const body = readFileSync(new URL(file, dir));
      asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      cache.set(file, asset);
    }
    assets.set(path, asset);
  }
  return assets;
}

export function serveAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  // Revalidate every time: cheap (ETag), and a new deploy's page is never mixed with an old script.
  const headers = { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', ETag: asset.etag };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
