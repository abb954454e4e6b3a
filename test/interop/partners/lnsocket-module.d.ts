/** The part of npm `lnsocket` 0.3.3 (no types of its own) that the driver uses. */
declare module 'lnsocket' {
  import type { Socket } from 'node:net';

  export interface LNSocket {
    /** The TCP socket (in Node), set once connected. */
    ws?: Socket;
    connected?: boolean;
    /** Raw chunks received and not yet consumed by `read`. */
    queue: Uint8Array[];
    /** The next chunk of `queue`, checked for every 5 ms; rejects (with undefined) once closed. */
    queue_recv(): Promise<Uint8Array>;
    setkeyraw(key: Uint8Array): number;
    /** Noise handshake as initiator; `host` is `"host:port"`. */
    connect(nodeId: string, host: string): Promise<void>;
    /** Reads the remote's `init`, then sends its default one. */
    perform_init(): Promise<void>;
    make_default_initmsg(): Uint8Array;
    /** Its `ping` (num_pong_bytes 1, 1 ignored byte); a view into wasm memory. */
    make_ping_msg(numPongBytes?: number, ignoredBytes?: number): Uint8Array;
    /** Next decrypted message; a view into wasm memory that the next call reuses. */
    read(): Promise<Uint8Array>;
    /** Encrypts; a view into wasm memory that the next call reuses. */
    encrypt(message: Uint8Array): Uint8Array;
    write(message: Uint8Array): void;
    disconnect(): boolean;
    destroy(): void;
  }

  export default function load_lnsocket(opts?: { timeout?: number }): Promise<LNSocket>;
}
