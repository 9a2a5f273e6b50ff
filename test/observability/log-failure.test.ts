import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import {
  CancelledError,
  EngineFailedError,
  EngineOverloadedError,
  InvalidInputError,
  ModelNotAvailableError,
} from '../../src/errors.ts';
import { logFailure } from '../../src/observability/log-failure.ts';

function captured(error: unknown): { level: number; msg: string; err?: { stack?: string }; code?: string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  logFailure(pino({ level: 'debug' }, sink), error, 'speech stream failed');
  assert.equal(lines.length, 1);
  return JSON.parse(lines[0]) as { level: number; msg: string; err?: { stack?: string }; code?: string };
}

describe('logFailure', () => {
  it('logs what a client caused or ended at info, without a stack', () => {
    for (const error of [new InvalidInputError('ref_audio is not audio'), new CancelledError()]) {
      const line = captured(error);
      assert.equal(line.level, 30);
      assert.equal(line.err, undefined);
      assert.match(line.msg, /^speech stream failed: /);
    }
  });
  it('logs expected server states (busy, no model) as warnings, without a stack', () => {
    for (const error of [new EngineOverloadedError('busy'), new ModelNotAvailableError('not installed')]) {
      const line = captured(error);
      assert.equal(line.level, 40);
      assert.equal(line.err, undefined);
      assert.ok(line.code);
    }
  });
  it('logs real failures as errors with their stack', () => {
    for (const error of [new EngineFailedError('worker crashed'), new TypeError('oops')]) {
      const line = captured(error);
      assert.equal(line.level, 50);
      assert.match(line.err?.stack ?? '', /Error/);
    }
  });
});
