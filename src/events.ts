/** Typed Node event emitters (the `typed-emitter` interface over `node:events`). */
import { EventEmitter } from 'node:events';
import type * as TypedEmitterTypes from 'typed-emitter';

/** A Node `EventEmitter` whose `on`/`emit` know each event's listener signature. */
export type TypedEmitter<Events extends TypedEmitterTypes.EventMap> = TypedEmitterTypes.default<Events>;

/** `EventEmitter`, typed: `class X extends (TypedEventEmitter as new () => TypedEmitter<XEvents>)`. */
export const TypedEventEmitter = EventEmitter;
