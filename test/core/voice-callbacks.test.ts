import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoiceCallbackLedger } from '../../src/core/voice-callbacks.ts';

const TEXT = '안녕하세요. AI 면접관입니다. 먼저 간단히 자기소개를 부탁드립니다.';

describe('VoiceCallbackLedger', () => {
  it('calls a render ours when its callbacks succeeded and covered its text', () => {
    const ledger = new VoiceCallbackLedger();
    const pending = ledger.expect(TEXT);
    assert.equal(ledger.record('안녕하세요. AI 면접관입니다.', { ok: true, status: 200 }), true);
    assert.equal(ledger.record('먼저 간단히 자기소개를 부탁드립니다.', { ok: true, status: 200 }), true);
    assert.deepEqual(pending.verdict('NewAvata'), { ours: true });
  });

  it('is not ours when the last try for a piece failed, and says why', () => {
    const ledger = new VoiceCallbackLedger();
    const pending = ledger.expect(TEXT);
    for (let attempt = 0; attempt < 3; attempt += 1)
      ledger.record(TEXT, { ok: false, status: 503, detail: 'model base_1.7b is not installed' });
    const verdict = pending.verdict('NewAvata');
    assert.equal(verdict.ours, false);
    assert.match(!verdict.ours ? verdict.reason : '', /failed \(503: model base_1\.7b is not installed\)/);
  });

  it('is ours when a retry of a failed piece succeeded', () => {
    const ledger = new VoiceCallbackLedger();
    const pending = ledger.expect(TEXT);
    ledger.record(TEXT, { ok: false, status: 503, detail: 'busy' });
    ledger.record(TEXT, { ok: true, status: 200 });
    assert.deepEqual(pending.verdict('NewAvata'), { ours: true });
  });

  it('is not ours without callbacks, or when they covered only part of the text', () => {
    const ledger = new VoiceCallbackLedger();
    const silent = ledger.expect(TEXT);
    assert.match(JSON.stringify(silent.verdict('NewAvata')), /did not call this server back/);
    silent.dispose();
    const partial = ledger.expect(TEXT);
    ledger.record('안녕하세요.', { ok: true, status: 200 });
    assert.match(JSON.stringify(partial.verdict('NewAvata')), /only part of the text/);
  });

  it('ignores requests for other text and forgets a render once disposed', () => {
    const ledger = new VoiceCallbackLedger();
    const pending = ledger.expect(TEXT);
    assert.equal(ledger.record('전혀 다른 문장입니다.', { ok: true, status: 200 }), false);
    assert.equal(ledger.record('   ', { ok: true, status: 200 }), false);
    pending.dispose();
    assert.equal(ledger.record(TEXT, { ok: true, status: 200 }), false);
    assert.equal(pending.outcomes.length, 0);
  });
});
