import type { Qwen3ModelRuntime } from './model-runtime.ts';

/** What the talker starts from: the prefill rows, and the text rows fed one per generated frame. */
export interface TalkerPrompt {
  /** [rows × hidden] */
  prefill: Float32Array;
  rows: number;
  /** [trailingRows × hidden] */
  trailing: Float32Array;
  trailingRows: number;
  /** The tts_pad text row, added to frames after the trailing rows run out. */
  padRow: Float32Array;
}

export interface VoiceData {
  /** Reference codes [frames × groups] (empty in x-vector-only mode). */
  referenceCodes: Int32Array;
  referenceFrames: number;
  speakerEmbedding: Float32Array;
  referenceText: string;
  xVectorOnly: boolean;
}

function addRows(
  target: Float32Array,
  targetRow: number,
  source: Float32Array,
  sourceRow: number,
  hidden: number,
): void {
  for (let index = 0; index < hidden; index += 1)
    target[targetRow * hidden + index] += source[sourceRow * hidden + index];
}

/**
 * Assembles the prefill exactly as the official `generate` does (QWEN3_TTS_ONNX.md §4): the role rows,
 * the codec prefix (think + language, or nothink for Auto) with the speaker embedding, then in ICL mode
 * the reference and target text overlaid on the reference codes, or in x-vector mode the first text
 * token on codec_bos with the rest trailing.
 */
export async function buildTalkerPrompt(
  model: Qwen3ModelRuntime,
  text: string,
  language: string,
  voice: VoiceData,
): Promise<TalkerPrompt> {
  const { manifest, tokenizer, hidden } = model;
  const { textTokens, codecTokens } = manifest;
  // A leading line break would merge with "\n" after "assistant" and shift the fixed slices below.
  const target = text.replace(/^[\r\n]+/, '');
  const inputIds = tokenizer.encode(`<|im_start|>assistant\n${target}<|im_end|>\n<|im_start|>assistant\n`);
  const special = await model.embedText([textTokens.ttsPad, textTokens.ttsBos, textTokens.ttsEos]);
  const padRow = special.slice(0, hidden);
  const bosRow = special.subarray(hidden, 2 * hidden);
  const eosRow = special.subarray(2 * hidden, 3 * hidden);

  const languageId =
    language.toLowerCase() === 'auto' ? undefined : manifest.languages[language.toLowerCase()];
  if (language.toLowerCase() !== 'auto' && languageId === undefined) {
    throw new Error(
      `this model has no language id for ${language}; it knows ${Object.keys(manifest.languages).join(', ')}`,
    );
  }
  const prefix: (Float32Array | number)[] =
    languageId === undefined
      ? [
          codecTokens.nothink,
          codecTokens.thinkBos,
          codecTokens.thinkEos,
          voice.speakerEmbedding,
          codecTokens.pad,
          codecTokens.bos,
        ]
      : [
          codecTokens.think,
          codecTokens.thinkBos,
          languageId,
          codecTokens.thinkEos,
          voice.speakerEmbedding,
          codecTokens.pad,
          codecTokens.bos,
        ];
  const prefixRow = (index: number) => {
    const entry = prefix[index];
    return typeof entry === 'number' ? model.codecRow(entry) : entry;
  };

  const roleRows = await model.embedText(inputIds.slice(0, 3));
  const rows: Float32Array[] = [];
  for (let row = 0; row < 3; row += 1) rows.push(roleRows.slice(row * hidden, (row + 1) * hidden));
  for (let index = 0; index <= prefix.length - 3; index += 1) rows.push(sum(padRow, prefixRow(index)));
  rows.push(sum(bosRow, prefixRow(prefix.length - 2)));

  const targetIds = inputIds.slice(3, -5);
  let trailing: Float32Array[];
  if (voice.xVectorOnly) {
    const first = await model.embedText(targetIds.slice(0, 1));
    rows.push(sum(first, model.codecRow(codecTokens.bos)));
    const rest = targetIds.length > 1 ? await model.embedText(targetIds.slice(1)) : new Float32Array(0);
    trailing = [...splitRows(rest, hidden), eosRow.slice()];
  } else {
    const referenceIds = tokenizer
      .encode(`<|im_start|>assistant\n${voice.referenceText}<|im_end|>\n`)
      .slice(3, -2);
    const textRows = [
      ...splitRows(await model.embedText([...referenceIds, ...targetIds]), hidden),
      eosRow.slice(),
    ];
    const codecRows = [model.codecRow(codecTokens.bos).slice(), ...referenceCodeRows(model, voice)];
    if (textRows.length > codecRows.length) {
      codecRows.forEach((codecRow, index) => rows.push(sum(textRows[index], codecRow)));
      trailing = textRows.slice(codecRows.length);
    } else {
      codecRows.forEach((codecRow, index) => rows.push(sum(textRows[index] ?? padRow, codecRow)));
      trailing = [padRow.slice()];
    }
  }
  return {
    prefill: concatRows(rows, hidden),
    rows: rows.length,
    trailing: concatRows(trailing, hidden),
    trailingRows: trailing.length,
    padRow,
  };
}

/** Σ over groups of each reference frame's code embeddings: the codec table for group 0, residual tables after. */
function referenceCodeRows(model: Qwen3ModelRuntime, voice: VoiceData): Float32Array[] {
  const groups = model.manifest.dimensions.codeGroups;
  const rows: Float32Array[] = [];
  for (let frame = 0; frame < voice.referenceFrames; frame += 1) {
    const row = model.codecRow(voice.referenceCodes[frame * groups]).slice();
    for (let group = 1; group < groups; group += 1)
      addRows(
        row,
        0,
        model.residualRow(group, voice.referenceCodes[frame * groups + group]),
        0,
        model.hidden,
      );
    rows.push(row);
  }
  return rows;
}

function sum(first: Float32Array, second: Float32Array): Float32Array {
  const result = first.slice(0, second.length);
  for (let index = 0; index < result.length; index += 1) result[index] += second[index];
  return result;
}

function splitRows(values: Float32Array, hidden: number): Float32Array[] {
  return Array.from({ length: values.length / hidden }, (_value, row) =>
    values.slice(row * hidden, (row + 1) * hidden),
  );
}

function concatRows(rows: Float32Array[], hidden: number): Float32Array {
  const result = new Float32Array(rows.length * hidden);
  rows.forEach((row, index) => result.set(row, index * hidden));
  return result;
}
