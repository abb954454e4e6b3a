/** The Node.js side of the platform seam (see types.ts). */
export { EventEmitter } from 'node:events';
export { nodeAeads as platformAeads, nodeCurves as platformCurves } from '../crypto/node.js';
export { dialTcp, listenTcp } from '../transports/tcp.js';

export const PLATFORM = 'node';

export function defer(fn: () => void): void {
  setImmediate(fn);
}

export function unref(timer: ReturnType<typeof setTimeout>): void {
  timer.unref();
}
