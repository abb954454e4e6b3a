/** Typed event emitters: the `typed-emitter` interface over the platform's `EventEmitter`. */
import type * as TypedEmitterTypes from 'typed-emitter';

/** An `EventEmitter` whose `on`/`emit` know each event's listener signature. */
export type TypedEmitter<Events extends TypedEmitterTypes.EventMap> = TypedEmitterTypes.default<Events>;
