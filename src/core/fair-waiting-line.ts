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
 * reconnect loop) cannot keep everyone else out. With one request per client it is plain FIFO.
 */
export class FairWaitingLine<T extends WaitingRequest> {
  private readonly waiting: T[] = [];
  private readonly lastServed = new Map<string, number>();
  private served = 0;

  get length(): number {
    return this.waiting.length;
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
    this.markServed(chosen.client);
    return chosen;
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
