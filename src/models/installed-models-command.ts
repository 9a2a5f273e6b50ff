import type { Config } from '../config.ts';
import { listInstalledModels, type InstalledModel } from './installed-models.ts';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

function describeSource(model: InstalledModel): string {
  const source = model.source;
  if (source === undefined) return '-';
  if (source.kind === 'synthetic') return 'synthetic (tests only)';
  if (source.kind === 'hub')
    return `hub ${source.repository}${source.revision === 'main' ? '' : `@${source.revision}`}`;
  return `export${source.repository ? ` of ${source.repository}` : ''}`;
}

function describeState(model: InstalledModel): string {
  if (!model.exists) return 'not installed';
  if (model.manifest === 'missing') return 'no manifest.json';
  if (model.manifest === 'invalid') return `invalid manifest: ${model.problem ?? ''}`;
  return model.variants.length > 0 ? 'installed' : 'incomplete (files missing)';
}

/** Rows of the `models list` table, as text cells. */
export function installedModelsTable(models: readonly InstalledModel[]): string[][] {
  const header = ['MODEL', 'STATE', 'VARIANTS', 'SOURCE', 'SIZE', 'DIRECTORY'];
  const rows = models.map((model) => [
    model.key,
    describeState(model),
    model.variants.join(',') || '-',
    describeSource(model),
    model.exists ? formatBytes(model.sizeBytes) : '-',
    `${model.directory}${model.origin === 'variable' ? ` (${model.variable})` : ''}`,
  ]);
  return [header, ...rows];
}

export function formatTable(rows: readonly string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `models list`: prints one row per model key and returns what it found. */
export async function runModelsListCommand(
  config: Config,
  output: NodeJS.WritableStream = process.stdout,
): Promise<InstalledModel[]> {
  const models = await listInstalledModels(config);
  output.write(`${formatTable(installedModelsTable(models))}\n`);
  const missing = models.filter((model) => model.variants.length === 0).map((model) => model.key);
  if (missing.length > 0) {
    output.write(`\nInstall with: npm run cli -- models pull <${missing.join('|')}>  (see docs/export.md)\n`);
  }
  return models;
}
