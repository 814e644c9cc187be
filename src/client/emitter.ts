/**
 * A minimal typed event emitter: node:events is not in every runtime this
 * client targets, and two events do not need more.
 */
type Listener = (...args: unknown[]) => void;

export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners = new Map<keyof Events, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as unknown as Listener;
    set.add(l);
    return () => void set.delete(l);
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (e) {
        // A throwing listener must not break the client's own bookkeeping.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
