import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { logDestination, type LogFormat } from '../../src/observability/log-destination.ts';

function logged(format: LogFormat, isTTY: boolean): string {
  let text = '';
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream; // a test double: only write() and isTTY are used
  output.isTTY = isTTY;
  pino({ level: 'info' }, logDestination(format, output)).warn({ model: 'base_0.6b' }, 'it speaks noise');
  return text;
}

describe('log destination', () => {
  it('writes JSON lines for services and collectors', () => {
    const line = JSON.parse(logged('json', true)) as { level: number; msg: string; model: string };
    assert.equal(line.level, 40);
    assert.equal(line.msg, 'it speaks noise');
  });
  it('writes one readable line with level and message when asked, or at a terminal', () => {
    for (const text of [logged('pretty', false), logged('auto', true)]) {
      assert.throws(() => JSON.parse(text));
      assert.match(text, /WARN/);
      assert.match(text, /it speaks noise/);
      assert.match(text, /base_0\.6b/);
      assert.doesNotMatch(text, /hostname|"pid"/);
      assert.equal(text.trim().split('\n').length, 1);
    }
  });
  it('chooses JSON when standard output is not a terminal', () => {
    assert.doesNotThrow(() => JSON.parse(logged('auto', false)));
  });
});
