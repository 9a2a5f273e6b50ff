import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeWav } from '../../src/audio/wav.ts';
import { runSpeakCommand } from '../../src/cli/speak-command.ts';
import { loadConfig } from '../../src/config.ts';
import { officialModel, readGoldenFloats, readGoldens, REFERENCE_WAV } from '../support/official-qwen3.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

describe('npm run cli -- speak', () => {
  it('writes the official audio and codes for a greedy request', async () => {
    const goldens = await readGoldens('base_1.7b');
    const entry = goldens.cases.find((candidate) => candidate.name === 'korean-icl')!;
    const scratch = temporaryDirectory('speak-');
    const out = path.join(scratch, 'nested', 'speech.wav');
    const codes = path.join(scratch, 'codes.json');
    await runSpeakCommand(
      {
        model: await officialModel('base_1.7b'),
        voice: REFERENCE_WAV,
        refText: goldens.reference.text,
        text: entry.text,
        language: 'korean',
        greedy: true,
        maxNewTokens: String(entry.maxNewTokens),
        out,
        codes,
      },
      loadConfig({ CACHE_DIR: path.join(scratch, 'cache') }),
    );
    assert.deepEqual(JSON.parse(await readFile(codes, 'utf8')).codes, entry.codes);
    const ours = decodeWav(await readFile(out)).samples;
    const official = await readGoldenFloats('base_1.7b', entry.audio.file);
    assert.equal(ours.length, official.length);
    // Both are 16-bit here: the rounding of each side plus our float error.
    for (let index = 0; index < ours.length; index += 1)
      assert.ok(Math.abs(ours[index] - official[index]) <= 3 / 32768, `sample ${index}`);
  });

  it('says what is missing before loading anything', async () => {
    await assert.rejects(
      runSpeakCommand(
        {
          model: await officialModel('base_0.6b'),
          voice: REFERENCE_WAV,
          text: '안녕',
          out: 'x.wav',
          language: 'Korean',
        },
        loadConfig({}),
      ),
      /--ref-text/,
    );
    await assert.rejects(
      runSpeakCommand(
        {
          model: await officialModel('base_0.6b'),
          voice: REFERENCE_WAV,
          refText: 'x',
          text: '안녕',
          out: 'x.wav',
          language: 'Klingon',
        },
        loadConfig({}),
      ),
      /--language must be one of/,
    );
  });
});
