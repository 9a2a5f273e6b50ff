import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The server as its users run it: its own process, so its memory and its exit are its own. */
export interface ServerProcess {
  base: string;
  /** Resident memory now, in MB (Linux: /proc; elsewhere undefined). */
  rssMb(): number | undefined;
  /** SIGTERM, then the exit code and how long the exit took. */
  terminate(timeoutMs: number): Promise<{ code: number | null; signal: string | null; seconds: number }>;
  kill(): void;
  /** The end of what it logged. */
  output(): string;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startServerProcess(environment: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
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
  const deadline = Date.now() + 60000;
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
    rssMb: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb === undefined ? undefined : Number(kb) / 1024;
      } catch {
        return undefined;
      }
    },
    terminate: async (timeoutMs) => {
      const startedAt = performance.now();
      child.kill('SIGTERM');
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
