import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the dashboard build the way CloudFront + S3 do for a single-page app: a file when the path
 * names one, otherwise `index.html` (client-side routes such as `/leads/123` must load the app).
 * Vite puts content-hashed files under `assets/`, so those may be cached forever; `index.html` must
 * not be, or a browser keeps an old app after a rebuild. Resolves false when not even index.html exists.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  staticDir: string,
): Promise<boolean> {
  const root = path.resolve(staticDir);
  const requested = safeDecode((req.url ?? '/').split('?')[0] ?? '/');
  const candidate = path.resolve(root, `.${path.posix.normalize(requested)}`);
  // `normalize` removes `..` above the root, and resolving under `root` keeps us inside it.
  const inside = candidate === root || candidate.startsWith(root + path.sep);
  const file = inside && (await isFile(candidate)) ? candidate : path.join(root, 'index.html');
  if (!(await isFile(file))) return false;

  const isAsset = file.startsWith(path.join(root, 'assets') + path.sep);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve, reject) => {
    createReadStream(file).on('error', reject).pipe(res).on('finish', resolve);
  });
  return true;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
