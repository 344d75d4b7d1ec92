// Deadlines for requests in flight, by key: what the relay uses to answer a request the upstream
// sits on. A deadline measures the upstream's silence about the request: it restarts when the
// upstream reports progress on it, and it does not run out while the upstream itself waits for
// the client (sampling, elicitation, roots: a person may be answering), restarting once the client
// has answered all of those.
export class Deadlines {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; ms: number }>();
  /** Requests the upstream sent the client that the client has not answered yet. */
  private readonly waitingOnClient = new Set<string>();

  constructor(private readonly onExpire: (key: string, ms: number) => void) {}

  /** (Re)starts the deadline of `key`: `ms` from now. */
  arm(key: string, ms: number): void {
    this.clear(key);
    const timer = setTimeout(() => this.expire(key, ms), ms);
    timer.unref();
    this.timers.set(key, { timer, ms });
  }

  /** The upstream said something about `key`: its deadline starts again. */
  touch(key: string): void {
    const t = this.timers.get(key);
    if (t) this.arm(key, t.ms);
  }

  clear(key: string): void {
    const t = this.timers.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    this.timers.delete(key);
  }

  /** The upstream asked the client something (`tag`: its request id): deadlines hold meanwhile. */
  pause(tag: string): void {
    this.waitingOnClient.add(tag);
  }

  /** The client answered `tag` (or the upstream withdrew it); with nothing left owed, every deadline restarts. */
  resume(tag: string): void {
    if (!this.waitingOnClient.delete(tag) || this.waitingOnClient.size > 0) return;
    for (const key of [...this.timers.keys()]) this.touch(key);
  }

  get size(): number {
    return this.timers.size;
  }

  private expire(key: string, ms: number): void {
    if (this.waitingOnClient.size > 0) return this.arm(key, ms);
    this.timers.delete(key);
    this.onExpire(key, ms);
  }

  clearAll(): void {
    for (const key of [...this.timers.keys()]) this.clear(key);
  }
}
