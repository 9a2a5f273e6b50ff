import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local stand-in for the Hugging Face file API, enough for `models pull`: the tree listing and
 * `resolve` downloads with Range, plus switches to drop connections, demand a token or ignore Range.
 */
export interface FakeHubRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FakeHubOptions {
  /** `owner/name` → (path → content). */
  repositories: Record<string, Record<string, Buffer>>;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  requiredToken?: string;
  /** Path → byte count: the first `dropTimes` downloads of that path send this many body bytes, then cut the socket. */
  dropAfterBytes?: Record<string, number>;
  /** How many downloads each `dropAfterBytes` entry cuts (default 1). */
  dropTimes?: number;
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange?: boolean;
  /** No tree API (as some mirrors): 404. */
  withoutTree?: boolean;
  /** Path → content served for downloads instead of the listed one (a corrupt file). */
  serveInstead?: Record<string, Buffer>;
}

export interface FakeHub {
  endpoint: string;
  requests: FakeHubRequest[];
  close(): Promise<void>;
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: FakeHubRequest[] = [];
  const drops = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://hub.invalid');
    requests.push({
      method: request.method ?? 'GET',
      url: url.pathname + url.search,
      headers: request.headers,
    });
    if (options.requiredToken && request.headers.authorization !== `Bearer ${options.requiredToken}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const tree = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/);
    if (tree) {
      const files = options.repositories[tree[1]];
      if (!files || options.withoutTree) {
        response.writeHead(404).end();
        return;
      }
      // As the real hub lists them: every file's git blob id, and LFS details for large or binary ones.
      const entries = Object.entries(files).map(([path, content]) => ({
        type: 'file',
        path,
        size: content.length,
        oid: gitBlobSha1(content),
        ...(content.length >= 100_000 || path.endsWith('.safetensors')
          ? { lfs: { oid: sha256Hex(content), size: content.length, pointerSize: 134 } }
          : {}),
      }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
      return;
    }
    const revision = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/);
    if (revision) {
      if (!options.repositories[revision[1]]) return void response.writeHead(404).end();
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: revision[1], sha: createHash('sha1').update(revision[1]).digest('hex') }));
      return;
    }
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const listed = resolve ? options.repositories[resolve[1]]?.[decodeURIComponent(resolve[3])] : undefined;
    const content =
      resolve && listed ? (options.serveInstead?.[decodeURIComponent(resolve[3])] ?? listed) : listed;
    if (!resolve || content === undefined) {
      response.writeHead(404).end('Entry not found');
      return;
    }
    const file = decodeURIComponent(resolve[3]);
    let start = 0;
    const range = request.headers.range?.match(/^bytes=(\d+)-$/);
    if (range && !options.ignoreRange) {
      start = Number(range[1]);
      if (start >= content.length) {
        response.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-length': content.length - start,
        'content-range': `bytes ${start}-${content.length - 1}/${content.length}`,
      });
    } else {
      response.writeHead(200, { 'content-length': content.length, 'accept-ranges': 'bytes' });
    }
    const dropAt = options.dropAfterBytes?.[file];
    const dropped = drops.get(file) ?? 0;
    if (dropAt !== undefined && dropped < (options.dropTimes ?? 1) && start + dropAt < content.length) {
      drops.set(file, dropped + 1);
      // Send part of the body, then cut the connection mid-transfer.
      response.write(content.subarray(start, start + dropAt), () =>
        setTimeout(() => request.socket.destroy(), 20),
      );
      return;
    }
    response.end(content.subarray(start));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A small repository in our Qwen3 layout: manifest.json, tokenizer files and two variants. */
export function fakeQwenRepository(modelKey = 'base_0.6b'): {
  files: Record<string, Buffer>;
  contents: Record<string, Buffer>;
} {
  const contents: Record<string, Buffer> = {
    'tokenizer/vocab.json': Buffer.from('{"a":0}'),
    'tokenizer/merges.txt': Buffer.from('#version: 0.2\n'),
    'float32/talker.onnx': Buffer.from(Uint8Array.from({ length: 200_000 }, (_, index) => index % 251)),
    'float32/codec_embedding.bin': Buffer.alloc(50_000, 3),
    'float16/talker.onnx': Buffer.from(Uint8Array.from({ length: 100_000 }, (_, index) => (index * 7) % 253)),
  };
  const manifest = {
    format: 'qwen3-tts-onnx',
    contractVersion: 1,
    modelKey,
    source: { repository: 'Qwen/Qwen3-TTS-12Hz-0.6B-Base', revision: 'abc', synthetic: false },
    variants: {
      float32: { directory: 'float32', dtype: 'float32' },
      float16: { directory: 'float16', dtype: 'float16' },
    },
    files: {
      sha256: Object.fromEntries(Object.entries(contents).map(([file, data]) => [file, sha256Hex(data)])),
    },
  };
  return {
    contents,
    files: { ...contents, 'manifest.json': Buffer.from(JSON.stringify(manifest, null, 2)) },
  };
}
