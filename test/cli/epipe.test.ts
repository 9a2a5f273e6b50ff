import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

describe('cli output into a pipe that closes early', () => {
  it('`cli config | head -1` ends quietly instead of crashing with EPIPE', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Close the pipe before the output is written, as `head` does once it has its lines.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (exitCode) => resolve(exitCode)),
    );
    assert.doesNotMatch(stderr, /EPIPE|Error/);
    assert.equal(code, 0);
  });
});
