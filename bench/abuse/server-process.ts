import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The server as its users run it: its own process, so its memory and its exit are its own. */
export interface ServerProcess {
  base: string;
  /** The process started: the server itself, or what runs it (npm, for `npm start`). */
  pid: number;
  /** Resident memory now, in MB (Linux: /proc; elsewhere undefined). */
  rssMb(): number | undefined;
  /** SIGTERM (or `signal`), then the exit code and how long the exit took. */
  terminate(
    timeoutMs: number,
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: string | null; seconds: number }>;
  kill(): void;
  /** The end of what it logged. */
  output(): string;
}

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The environment `npm start` gives the server: its start script sets `NAME=${NAME:-value}` before it
 * execs node (the allocator's settings, which must be set before the process starts). For a server
 * started otherwise that must behave as `npm start`'s; what the caller's environment sets wins, as there.
 */
export function startScriptEnvironment(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const environment: Record<string, string> = {};
  for (const [, name, value] of manifest.scripts.start.matchAll(/\b([A-Z_][A-Z0-9_]*)=\$\{\1:-([^}]*)\}/g))
    environment[name] = process.env[name] ?? value;
  return environment;
}

/** How the server is started by default: from the sources, through tsx (what `npm run dev` runs). */
export const FROM_SOURCES = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'];
/** The build in dist/ with plain node (what `npm start` runs after building). */
export const FROM_BUILD = [process.execPath, 'dist/cli/main.js', 'serve'];

export async function startServerProcess(
  environment: Record<string, string>,
  command: string[] = FROM_SOURCES,
  /** cwd: where to start it (default: here); startTimeoutMs: how long it may take to answer /health. */
  options: { cwd?: string; startTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const [program, ...args] = command;
  const child: ChildProcess = spawn(program!, args, {
    cwd: options.cwd,
    env: { ...process.env, ...environment, TTS_HOST: '127.0.0.1', TTS_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + String(chunk)).slice(-20000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60000);
  for (;;) {
    const status = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start: ${output.slice(-2000)}`);
    }
    await sleep(200);
  }
  return {
    base,
    pid: child.pid!,
    rssMb: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb === undefined ? undefined : Number(kb) / 1024;
      } catch {
        return undefined;
      }
    },
    terminate: async (timeoutMs, signal = 'SIGTERM') => {
      const startedAt = performance.now();
      child.kill(signal);
      const result = await Promise.race([exited, sleep(timeoutMs, undefined, { ref: false })]);
      if (!result) {
        child.kill('SIGKILL');
        return { code: null, signal: 'did not exit', seconds: timeoutMs / 1000 };
      }
      return { ...result, seconds: (performance.now() - startedAt) / 1000 };
    },
    kill: () => child.kill('SIGKILL'),
    output: () => output,
  };
}
