/** A request waiting for an engine slot, and who sent it. */
export interface WaitingRequest {
  /** Who asked (the client's address); requests without one share the empty name. */
  client: string;
  /** A resumed stream (see EngineSlot): it waits ahead of every new request. */
  ahead: boolean;
}

/**
 * The waiting requests of one engine, served fairly between clients: resumed streams first, then
 * round-robin over clients (the one served least recently goes next, its oldest request first).
 * When the line is full, a newcomer from a client with few requests waiting may take the place of
 * the newest request of the client with the most, so one client's burst (or an attacker's
 * reconnect loop) cannot keep everyone else out. Even with one request per client it is not FIFO: a
 * later request goes first when its client's last turn was earlier.
 */
export class FairWaitingLine<T extends WaitingRequest> {
  private readonly waiting: T[] = [];
  private readonly lastServed = new Map<string, number>();
  private served = 0;

  get length(): number {
    return this.waiting.length;
  }

  /** Turns given so far: each new request given an engine slot takes the next (resumed streams take none). */
  get turn(): number {
    return this.served;
  }

  add(request: T): void {
    this.waiting.push(request);
  }

  remove(request: T): boolean {
    const index = this.waiting.indexOf(request);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Takes out the request to serve next, and remembers its client as just served. */
  next(): T | undefined {
    const resumed = this.waiting.find((request) => request.ahead);
    let chosen = resumed;
    if (!chosen) {
      let chosenServedAt = Infinity;
      for (const request of this.waiting) {
        const servedAt = this.lastServed.get(request.client) ?? -1;
        if (servedAt < chosenServedAt) {
          chosen = request;
          chosenServedAt = servedAt;
        }
      }
    }
    if (!chosen) return undefined;
    this.remove(chosen);
    // A resumed stream continues a turn it already had: it does not count as its client's new turn.
    if (!chosen.ahead) this.markServed(chosen.client);
    return chosen;
  }

  /**
   * Where a waiting new request stands (1 = next), if no other request arrived: resumed streams
   * aside, the line is a round-robin over clients in the order of their last turn (never served
   * first, by arrival), so a client's k-th waiting request comes in round k. Requests that arrive
   * later may still go ahead of it, but only from clients whose last turn was earlier than its
   * client's, each once per round.
   */
  placeOf(request: T): number {
    const counts = new Map<string, { waiting: number; first: number }>();
    const at = this.waiting.indexOf(request);
    let round = 0;
    this.waiting.forEach((other, index) => {
      if (other.ahead) return;
      const entry = counts.get(other.client) ?? { waiting: 0, first: index };
      entry.waiting += 1;
      counts.set(other.client, entry);
      if (other.client === request.client && index <= at) round += 1;
    });
    const own = counts.get(request.client);
    if (!own || round === 0) return 0;
    const servedAt = (client: string) => this.lastServed.get(client) ?? -1;
    const before = (client: string, entry: { first: number }) =>
      servedAt(client) < servedAt(request.client) ||
      (servedAt(client) === servedAt(request.client) && entry.first < own.first);
    let ahead = round - 1;
    for (const [client, entry] of counts)
      if (client !== request.client)
        ahead += Math.min(entry.waiting, before(client, entry) ? round : round - 1);
    return ahead + 1;
  }

  /** A client served without waiting counts as served too, for the round-robin. */
  markServed(client: string): void {
    this.served += 1;
    this.lastServed.delete(client); // keeps the map ordered by last service
    this.lastServed.set(client, this.served);
    if (this.lastServed.size > 10000) this.forgetOldest();
  }

  /**
   * The new request a newcomer from `client` may displace when the line is full: the newest of
   * the client with the most new requests waiting, if that is at least two more than `client` has
   * (so that displacing makes the line fairer, and never just swaps two clients back and forth).
   */
  displaceableFor(client: string): T | undefined {
    const counts = new Map<string, number>();
    for (const request of this.waiting)
      if (!request.ahead) counts.set(request.client, (counts.get(request.client) ?? 0) + 1);
    let heaviest: string | undefined;
    for (const [name, count] of counts)
      if (heaviest === undefined || count > counts.get(heaviest)!) heaviest = name;
    if (heaviest === undefined || counts.get(heaviest)! < (counts.get(client) ?? 0) + 2) return undefined;
    return this.waiting.findLast((request) => !request.ahead && request.client === heaviest);
  }

  private forgetOldest(): void {
    const waitingClients = new Set(this.waiting.map((request) => request.client));
    for (const name of this.lastServed.keys()) {
      if (this.lastServed.size <= 5000) break;
      if (!waitingClients.has(name)) this.lastServed.delete(name);
    }
  }
}
