/**
 * A typed publish/subscribe for reactions between domains. The map names each event and the
 * arguments its handlers get. `emit` awaits the handlers one after another and lets a failure
 * through to the emitter, so a reaction that must happen in the emitter's transaction (an
 * incident change writing its alert deliveries) stays inside it.
 */
export type EventMap = { [name: string]: unknown[] };

export type Handler<Args extends unknown[]> = (...args: Args) => Promise<void> | void;

export class EventBus<M extends EventMap> {
  private readonly handlers: { [K in keyof M]?: Handler<M[K]>[] } = {};

  on<K extends keyof M>(name: K, handler: Handler<M[K]>): void {
    this.handlers[name] = [...(this.handlers[name] ?? []), handler];
  }

  async emit<K extends keyof M>(name: K, ...args: M[K]): Promise<void> {
    for (const handler of this.handlers[name] ?? []) await handler(...args);
  }

  /** A function that emits `name` (what a service takes as its hook). */
  emitter<K extends keyof M>(name: K): (...args: M[K]) => Promise<void> {
    return (...args) => this.emit(name, ...args);
  }
}
