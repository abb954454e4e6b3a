/**
 * Two {@link Connection}s joined back to back, in memory: what one writes, the other
 * receives, one chunk per write, in a later microtask. Flow control is real: while a side is
 * paused, what was written to it stays counted in the writer's `bufferedAmount`. For tests,
 * and for apps that run two nodes in one process.
 */
import type { Connection, ConnectionHandler } from '../connection.js';

/**
 * Returns the two ends of a new in-memory connection.
 *
 * @example
 * ```ts
 * const [a, b] = memoryPair();
 * alice.accept(a);
 * await bob.connectStream(b, alice.nodeId); // two PeerManagers in one process, no socket
 * ```
 */
export function memoryPair(): [Connection, Connection] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.remote = b;
  b.remote = a;
  return [a, b];
}

class MemoryEnd implements Connection {
  remote!: MemoryEnd;
  private handler: ConnectionHandler | undefined;
  /** Chunks the remote wrote that this side has not received yet. */
  private readonly inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private paused = false;
  private delivering = false;
  /** The remote sent everything it will send. */
  private remoteEnded = false;
  private endReported = false;
  private isClosed = false;

  get bufferedAmount(): number {
    return this.remote.inboxBytes;
  }

  open(handler: ConnectionHandler): void {
    this.handler = handler;
    this.scheduleDelivery();
  }

  write(bytes: Uint8Array): void {
    if (this.isClosed || this.remote.remoteEnded) return;
    this.remote.inbox.push(bytes);
    this.remote.inboxBytes += bytes.length;
    this.remote.scheduleDelivery();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.scheduleDelivery();
  }

  end(): void {
    if (this.isClosed || this.remote.remoteEnded) return;
    this.remote.remoteEnded = true;
    this.remote.scheduleDelivery();
  }

  destroy(): void {
    this.close();
    this.remote.close();
  }

  private scheduleDelivery(): void {
    if (this.delivering || !this.handler) return;
    this.delivering = true;
    queueMicrotask(() => {
      this.delivering = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const handler = this.handler;
    if (!handler || this.isClosed) return;
    while (!this.paused && this.inbox.length > 0 && !this.isClosed) {
      const chunk = this.inbox.shift()!;
      this.inboxBytes -= chunk.length;
      this.remote.handler?.flushed();
      handler.data(chunk);
    }
    if (this.inbox.length === 0 && this.remoteEnded && !this.endReported && !this.isClosed) {
      this.endReported = true;
      handler.end();
      this.closeWhenDrained();
    }
  }

  /** Both directions finished and each side read everything: the connection is closed. */
  private closeWhenDrained(): void {
    if (this.endReported && this.remote.endReported) {
      this.close();
      this.remote.close();
    }
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.inbox.length = 0;
    this.inboxBytes = 0;
    queueMicrotask(() => this.handler?.closed());
  }
}
