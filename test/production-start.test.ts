import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FROM_BUILD, startServerProcess, type ServerProcess } from '../bench/abuse/server-process.ts';
import { SEED_BODY, SEED_REFERENCE_NAME, writeReferenceAudio } from './helper.ts';
import { syntheticQwen3 } from './support/synthetic-models.ts';
import { temporaryDirectory } from './support/temporary-directory.ts';

/** How long a signalled server may take to exit. */
const EXIT_WITHIN_MS = 10000;
/** A cold build on a busy 2-core machine, then the model's load. */
const COLD_START_MS = 110000;
/** What `npm start` needs from a clone: no tests, benchmarks or exporters. */
const PROJECT_FILES = ['package.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'src', 'web'];
const linuxOnly = process.platform !== 'linux' && 'reads processes from /proc';

/** The processes whose parent is `pid`, with their command lines (Linux). */
function childrenOf(pid: number): { pid: number; command: string }[] {
  const children: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read from the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== pid) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      children.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm start` as production runs it, on a fresh copy of the project (no dist/, the project's .npmrc):
 * it builds dist/ and runs it with plain node (no tsx) as one process that drains and exits on
 * SIGTERM or SIGINT, also when the signal goes to npm, and leaves nothing behind. The copy keeps the
 * working tree's own dist/ out of it, and makes every run prove the build from scratch.
 */
describe('production start: npm start builds dist/ and runs it with plain node', () => {
  let project: string;
  let environment: Record<string, string>;

  before(async () => {
    project = temporaryDirectory('production-start-');
    for (const entry of PROJECT_FILES.filter((entry) => existsSync(entry)))
      cpSync(entry, path.join(project, entry), { recursive: true });
    symlinkSync(path.resolve('node_modules'), path.join(project, 'node_modules'), 'dir');
    const references = path.join(project, 'references');
    mkdirSync(references);
    writeReferenceAudio(path.join(references, SEED_REFERENCE_NAME));
    environment = {
      MODEL_0_6B_BASE: await syntheticQwen3(),
      REF_AUDIO_DIR: references,
      CACHE_DIR: path.join(project, 'cache'),
      SHUTDOWN_GRACE_S: '1',
      LOG_LEVEL: 'warn',
    };
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  async function expectCleanExit(server: ServerProcess, signal: NodeJS.Signals, watched: number[]) {
    const exit = await server.terminate(EXIT_WITHIN_MS, signal);
    assert.notEqual(exit.signal, 'did not exit', `no exit ${EXIT_WITHIN_MS} ms after ${signal}`);
    assert.equal(exit.code, 0, server.output().slice(-2000));
    for (const pid of watched) assert.ok(!isRunning(pid), `process ${pid} still runs after ${signal}`);
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(
      `npm start: builds, node is npm's own child, and ${signal} to npm stops it with no orphan`,
      { skip: linuxOnly },
      async () => {
        const server = await startServerProcess(environment, ['npm', 'start', '--silent'], {
          cwd: project,
          startTimeoutMs: COLD_START_MS,
        });
        let node: { pid: number; command: string } | undefined;
        try {
          assert.ok(existsSync(path.join(project, 'dist', 'cli', 'main.js')), 'npm start built dist/');
          // `exec` in the script: sh gives way to node, so no shell sits between npm and the server.
          const children = childrenOf(server.pid);
          assert.equal(children.length, 1, JSON.stringify(children));
          node = children[0]!;
          assert.match(node.command, /^\S*node dist\/cli\/main\.js serve$/);
          await expectCleanExit(server, signal, [server.pid, node.pid]);
        } finally {
          server.kill();
          if (node && isRunning(node.pid)) process.kill(node.pid, 'SIGKILL');
        }
      },
    );
  }

  /** `node dist/cli/main.js serve` in the copy, built first if the tests above did not (`npm run build`). */
  async function startBuilt(): Promise<ServerProcess> {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
      cwd: project,
      stdio: 'pipe',
    });
    return startServerProcess(environment, FROM_BUILD, { cwd: project });
  }

  it('node dist/: speech from the compiled workers, the page from web/, exit 0 on SIGTERM', async () => {
    const server = await startBuilt();
    try {
      const speech = await fetch(`${server.base}/tts/voice_clone`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SEED_BODY),
        signal: AbortSignal.timeout(60000),
      });
      assert.equal(speech.status, 200, await speech.clone().text());
      assert.equal(
        Buffer.from(await speech.arrayBuffer())
          .subarray(0, 4)
          .toString(),
        'RIFF',
      );
      const page = await fetch(`${server.base}/ui`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      await expectCleanExit(server, 'SIGTERM', [server.pid]);
    } finally {
      server.kill();
    }
  });

  it('node dist/: exit 0 on SIGINT', async () => {
    const server = await startBuilt();
    try {
      await expectCleanExit(server, 'SIGINT', [server.pid]);
    } finally {
      server.kill();
    }
  });
});
