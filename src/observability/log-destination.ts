import type { DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Where log lines go: JSON lines (for log collectors) or, for a person at a terminal, one readable
 * line per event with its time and level, without pid and hostname. `auto` chooses by whether
 * standard output is a terminal, so `npm start` in a shell reads well and a service writes JSON.
 * Both write synchronously to standard output, in this process (no transport thread).
 */
export function logDestination(
  format: LogFormat,
  output: NodeJS.WriteStream = process.stdout,
): DestinationStream {
  const readable = format === 'pretty' || (format === 'auto' && output.isTTY === true);
  if (!readable) return output;
  return pretty({
    destination: output,
    sync: true,
    colorize: output.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,reqId',
    singleLine: true,
  });
}
