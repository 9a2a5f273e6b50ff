import assert from 'node:assert/strict';
import { existsSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { encodeWav } from '../../src/audio/wav.ts';
import { buildTestApp, type TestApp } from '../helper.ts';
import { launchChromium, SKIP_WITHOUT_CHROMIUM } from '../support/chromium.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

/**
 * The try-it page (/ui) in headless Chromium against the real app on the fake engine: the voice list,
 * saving an uploaded and a recorded voice, speaking with a busy state, playback and download, errors
 * in words, and the synthetic-model banner. Needs a Chromium binary (Debian: `apt-get install
 * chromium`; .ci/run installs it); without one the test skips itself.
 */

/** Every wait on the page gives up after this long, so a broken page fails instead of hanging. */
const WAIT_MS = 10000;

/** What the test sets on page elements (the project compiles without the DOM library). */
type Field = { value: string };

function toneWav(seconds: number): Buffer {
  const samples = new Float32Array(Math.round(seconds * 24000));
  for (let index = 0; index < samples.length; index += 1)
    samples[index] =
      0.3 * Math.sin((2 * Math.PI * 220 * index) / 24000) * (0.7 + 0.3 * Math.sin(index / 3000));
  return encodeWav(samples, 24000);
}

describe('the try-it page in headless Chromium', { skip: SKIP_WITHOUT_CHROMIUM, timeout: 90000 }, () => {
  let test: TestApp;
  let browser: Browser;
  let page: Page;
  let files: string;
  const pageErrors: string[] = [];
  const text = (selector: string) => page.$eval(selector, (element) => element.textContent ?? '');
  const options = () => page.$$eval('#voice option', (list) => list.map((option) => option.value));
  /** A property of the element the selector finds (functions sent to the page take no closures). */
  const read = (selector: string, key: string) =>
    page.$eval(selector, (element, name) => (element as unknown as Record<string, unknown>)[name], key);
  /** Waits until an expression, evaluated in the page, is true. */
  const waitUntil = (expression: string) => page.waitForFunction(expression, { timeout: WAIT_MS });
  const waitForText = (selector: string, pattern: RegExp) =>
    waitUntil(
      `new RegExp(${JSON.stringify(pattern.source)}).test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`,
    );
  const fill = (selector: string, value: string) =>
    page.$eval(
      selector,
      (element, newValue) => {
        (element as unknown as Field).value = newValue;
        element.dispatchEvent(new Event('input', { bubbles: true }));
      },
      value,
    );

  before(async () => {
    // Parts arrive 60 ms apart, so that speaking takes long enough to see the busy state.
    test = await buildTestApp({ engineOptions: { synthetic: ['base_0.6b'], partDelayMs: 60 } });
    await test.app.inject({ method: 'POST', url: '/load/base_0.6b' });
    await test.app.listen({ host: '127.0.0.1', port: 0 });
    files = temporaryDirectory('try-it-page-');
    browser = await launchChromium([
      '--use-fake-ui-for-media-stream', // grant the microphone without asking
      '--use-fake-device-for-media-stream', // a microphone that plays a beep
    ]);
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    const { port } = test.app.server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/ui`, { waitUntil: 'load', timeout: WAIT_MS });
  });
  after(async () => {
    await browser?.close();
    await test?.close();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  it('lists the voices from GET /v1/audio/voices', async () => {
    await waitUntil(`document.querySelectorAll('#voice option[value="sample(1)"]').length === 1`);
    assert.deepEqual(await options(), ['sample(1)']);
    assert.match(await text('#voiceInfo'), /No transcript/);
  });

  it('shows a banner when the loaded model is synthetic', async () => {
    await page.waitForSelector('#banner:not([hidden])', { timeout: WAIT_MS });
    assert.match(await text('#banner'), /base_0\.6b.*synthetic.*speaks noise/);
  });

  it('saves an uploaded WAV with its transcript as a voice, which then appears in the list', async () => {
    await page.click('#addVoice summary');
    const wav = path.join(files, 'my voice.wav');
    writeFileSync(wav, toneWav(2));
    const input = await page.$('input#voiceFile');
    await (input as unknown as { uploadFile(file: string): Promise<void> }).uploadFile(wav);
    await fill('#voiceName', 'uploaded');
    await fill('#voiceText', '안녕하세요, 반갑습니다.');
    await page.click('#saveVoice');
    await waitForText('#voiceStatus', /Saved “uploaded”/);
    assert.deepEqual(await options(), ['sample(1)', 'uploaded']);
    assert.equal(await read('#voice', 'value'), 'uploaded');
    assert.match(await text('#voiceInfo'), /Transcript: 안녕하세요, 반갑습니다\./);
    assert.ok(existsSync(path.join(test.referenceDirectory, 'uploaded.wav')));
  });

  it('shows the server’s refusal in words (a name that cannot be a voice)', async () => {
    await fill('#voiceName', '../escape');
    await page.click('#saveVoice');
    await waitForText('#voiceStatus', /cannot be a voice name/);
    assert.equal(await page.$eval('#voiceStatus', (element) => element.classList.contains('error')), true);
  });

  it('records from the microphone and saves the recording as a voice', async () => {
    await page.click('#record');
    await waitForText('#recordStatus', /Recording/);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await page.click('#record');
    await waitForText('#recordStatus', /Recorded \d/);
    assert.equal(await read('#recording', 'hidden'), false);
    await fill('#voiceName', 'recorded');
    await fill('#voiceText', '');
    await page.click('#saveVoice');
    await waitForText('#voiceStatus', /^(?!Saving)\S/);
    assert.match(await text('#voiceStatus'), /Saved “recorded”/, await text('#voiceStatus'));
    assert.ok((await options()).includes('recorded'));
    assert.ok(existsSync(path.join(test.referenceDirectory, 'recorded.webm')));
  });

  it('speaks with a busy state, then offers the audio to play and download', async () => {
    await page.select('#voice', 'uploaded');
    await page.click('#speak');
    // Busy: the button is disabled and the status says what is happening, with the time so far.
    await waitUntil(
      "document.getElementById('speak').disabled && " +
        "/(Preparing|Speaking sentence \\d of \\d).*\\(\\d+\\.\\d s\\)/.test(document.getElementById('speakStatus').textContent)",
    );
    await page.waitForSelector('#result:not([hidden])', { timeout: WAIT_MS });
    await waitForText('#speakStatus', /^Done: \d+\.\d s of speech/);
    assert.equal(await read('#speak', 'disabled'), false);
    const download = {
      href: String(await read('#download', 'href')),
      name: String(await read('#download', 'download')),
    };
    assert.match(download.name, /^uploaded-\d{8}-\d{6}\.wav$/);
    assert.match(download.href, /^blob:/);
    // The audio element can play it: the browser read a duration from it.
    await waitUntil(`document.getElementById('audio').duration > 0.5`);
    const header = await page.evaluate(async (url) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return { riff: String.fromCharCode(...bytes.subarray(0, 4)), length: bytes.length };
    }, download.href);
    assert.equal(header.riff, 'RIFF');
    assert.ok(header.length > 24000, `a WAV of speech, not ${header.length} bytes`);
  });

  it('shows errors in words: empty text, and a voice whose file has gone', async () => {
    await fill('#text', '');
    await page.click('#speak');
    await waitForText('#speakStatus', /Enter the text to speak/);
    assert.equal(await page.$eval('#speakStatus', (element) => element.classList.contains('error')), true);

    await fill('#text', '안녕하세요.');
    unlinkSync(path.join(test.referenceDirectory, 'uploaded.wav'));
    await page.click('#speak');
    await waitForText('#speakStatus', /not found in REF_AUDIO_DIR/);
    assert.equal(await read('#speak', 'disabled'), false);
    assert.deepEqual(pageErrors, []);
  });
});
