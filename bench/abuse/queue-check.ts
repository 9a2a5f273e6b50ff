import type { IncomingHttpHeaders } from 'node:http';
import { percentile } from './outcomes.ts';

/** What the server told one admitted request about its wait (X-Queue-* headers), and who sent it. */
export interface QueueRecord {
  kind: string;
  client: string;
  /** 0: a slot was free on arrival; n: it was n-th in line. */
  position: number;
  /** The server's turn counter on arrival, and the turn the request was given. */
  arrivalTurn: number;
  turn: number;
  waitedSeconds: number;
}

/** The record of a response's X-Queue-* headers; undefined when it has none (refused, or not speech). */
export function queueRecordOf(
  kind: string,
  client: string,
  headers: IncomingHttpHeaders | Headers,
): QueueRecord | undefined {
  const get = (name: string) => {
    const value = headers instanceof Headers ? headers.get(name) : headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const turns = /^(\d+)-(\d+)$/.exec(get('x-queue-turns') ?? '');
  const position = get('x-queue-position');
  const waited = get('x-queue-wait');
  if (!turns || position === undefined || waited === undefined) return undefined;
  return {
    kind,
    client,
    position: Number(position),
    arrivalTurn: Number(turns[1]),
    turn: Number(turns[2]),
    waitedSeconds: Number(waited),
  };
}

/**
 * The fair line's promise, checked from the outside. The line is a round-robin over clients, not
 * first come, first served: a request that arrives later goes first when its client's last turn was
 * earlier (or it never had one). So a request's position on arrival is not a bound on the turns it
 * waits; what holds is: every turn given while it waited went to a client whose previous turn came
 * before its own client's previous turn. Hence no other client had a second turn while it waited,
 * and it waited at most one turn per other client waiting meanwhile.
 */
export interface QueueCheck {
  /** Well-behaved requests that were told their wait (each from a client with one request at a time). */
  checked: number;
  /** Turns given to another client whose last turn was more recent than the waiting request's client's. */
  violations: string[];
  /** Turns given while a checked request waited whose request the suite never saw answered (not checkable). */
  unattributed: number;
  /** Positions on arrival and turns waited: the largest, and how many waited more turns than their position. */
  maxPosition: number;
  maxTurnsWaited: number;
  /** Requests served after more turns than their position on arrival (later arrivals with earlier last turns). */
  overtaken: number;
  /** The most turns any request waited beyond its position, all given to clients whose last turn was earlier. */
  maxOvertakenBy: number;
  /** Seconds waited for the engine, as the server measured it. */
  waitSeconds: { median: number; max: number };
}

export function checkQueue(records: readonly QueueRecord[], wellBehaved: string): QueueCheck {
  const byTurn = new Map<number, QueueRecord>();
  const turnsOf = new Map<string, number[]>();
  for (const record of records) {
    byTurn.set(record.turn, record);
    turnsOf.set(record.client, [...(turnsOf.get(record.client) ?? []), record.turn]);
  }
  /** The client's last turn before `turn`, as far as the suite saw (-1: none). */
  const previousTurn = (client: string, turn: number) =>
    Math.max(-1, ...(turnsOf.get(client) ?? []).filter((other) => other < turn));

  const checked = records.filter((record) => record.kind === wellBehaved);
  const violations: string[] = [];
  let unattributed = 0;
  let overtaken = 0;
  let maxOvertakenBy = 0;
  for (const request of checked) {
    const own = previousTurn(request.client, request.turn);
    for (let turn = request.arrivalTurn + 1; turn < request.turn; turn += 1) {
      const other = byTurn.get(turn);
      if (!other) {
        unattributed += 1;
        continue;
      }
      const theirs = previousTurn(other.client, turn);
      // Two clients never served before are served in the order they arrived: either may be first.
      const fair = other.client !== request.client && (theirs < own || (theirs === -1 && own === -1));
      if (!fair)
        violations.push(
          `turn ${turn} went to ${other.kind} ${other.client} (its last turn ${theirs}) while ` +
            `${request.client}'s request (last turn ${own}) waited from turn ${request.arrivalTurn}`,
        );
    }
    const turnsWaited = request.turn - request.arrivalTurn - 1;
    const beyond = turnsWaited - Math.max(0, request.position - 1);
    if (beyond > 0) {
      overtaken += 1;
      maxOvertakenBy = Math.max(maxOvertakenBy, beyond);
    }
  }
  const waits = checked.map((record) => record.waitedSeconds);
  return {
    checked: checked.length,
    violations,
    unattributed,
    maxPosition: Math.max(0, ...checked.map((record) => record.position)),
    maxTurnsWaited: Math.max(0, ...checked.map((record) => record.turn - record.arrivalTurn - 1)),
    overtaken,
    maxOvertakenBy,
    waitSeconds: { median: percentile(waits, 0.5), max: Math.max(0, ...waits) },
  };
}
