import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has the seed defaults', () => {
    const config = loadConfig({});
    assert.equal(config.TTS_PORT, 8000);
    assert.equal(config.TTS_HOST, '0.0.0.0');
    assert.equal(config.ENABLE_VIDEO, false);
    assert.equal(config.TTS_DEFAULT_MODEL, 'base_0.6b');
    assert.equal(config.NEWAVATA_API_URL, 'http://localhost:8001');
  });

  const bad: [string, string, RegExp][] = [
    ['TTS_PORT', 'eighty', /TTS_PORT="eighty" is not valid: an integer/],
    ['TTS_PORT', '70000', /TTS_PORT/],
    ['ENABLE_VIDEO', 'maybe', /ENABLE_VIDEO/],
    ['TTS_DEVICE', 'gpu', /TTS_DEVICE="gpu" is not valid: cpu, cuda, cuda:N or auto/],
    ['TTS_DTYPE', 'int2', /TTS_DTYPE/],
    ['TTS_DEFAULT_MODEL', 'base_9b', /TTS_DEFAULT_MODEL/],
    ['NEWAVATA_API_URL', 'ftp://x', /NEWAVATA_API_URL/],
  ];
  for (const [name, value, message] of bad) {
    it(`stops on ${name}=${value} with a message naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('reads TRUST_PROXY as true/false in any case, a hop count, or addresses', () => {
    for (const spelling of ['true', 'True', 'TRUE'])
      assert.equal(loadConfig({ TRUST_PROXY: spelling }).TRUST_PROXY, true);
    for (const spelling of ['', 'false', 'False'])
      assert.equal(loadConfig({ TRUST_PROXY: spelling }).TRUST_PROXY, false);
    assert.equal(typeof loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY, 'function');
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.0/8' }).TRUST_PROXY, [
      '10.0.0.1',
      '10.0.0.0/8',
    ]);
  });

  it('.env.example documents every variable', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    for (const { name } of describeConfig()) assert.match(example, new RegExp(`^#? ?${name}=`, 'm'), name);
  });
});
