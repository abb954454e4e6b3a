// What the harness, the victim and the attacker say to each other over IPC, and the constants they share.

/** The victim measures event-loop delay with a timer of this period (monitorEventLoopDelay's resolution). */
export const LOOP_RESOLUTION_MS = 10;
/** The legitimate client connects from this loopback address: the victim rate-limits per source host. */
export const LEGIT_HOST = '127.0.0.2';
/** The legitimate client's request, which the victim echoes as LEGIT_REPLY_TYPE. */
export const LEGIT_REQUEST_TYPE = 0xfffb;
export const LEGIT_REPLY_TYPE = 0xfffd;
/** The custom-message flood's type (odd: delivered to the app's `custommsg` listener). */
export const FLOOD_TYPE = 0xfff1;

/** How long the victim's sockets lived before they closed, in buckets. */
export type LifetimeBuckets = Record<'refused at accept' | '< 1 s' | '1-4.5 s' | '4.5-6 s' | '6-16 s' | '>= 16 s', number>;

export function newLifetimeBuckets(): LifetimeBuckets {
  return { 'refused at accept': 0, '< 1 s': 0, '1-4.5 s': 0, '4.5-6 s': 0, '6-16 s': 0, '>= 16 s': 0 };
}

export function lifetimeBucket(ms: number): keyof LifetimeBuckets {
  if (ms === 0) return 'refused at accept';
  if (ms < 1000) return '< 1 s';
  if (ms < 4500) return '1-4.5 s';
  if (ms < 6000) return '4.5-6 s';
  if (ms < 16000) return '6-16 s';
  return '>= 16 s';
}

/** One TCP socket as the victim sees it. */
export interface SocketState {
  open: boolean;
  /** Not reading (`socket.isPaused()`): lnpeer paused it. */
  paused: boolean;
  bytesRead: number;
  bytesWritten: number;
  /** Bytes the victim queued for this socket that the kernel has not taken yet. */
  writableLength: number;
  livedMs: number;
}

export interface VictimReport {
  /** How late the victim's 10-ms timer fired at worst since the last reset: its longest stall. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** Stalls of 50 ms or more since the baseline: when (ms after it), how long, and the process's CPU time meanwhile. */
  stalls: Array<{ atMs: number; ms: number; cpuMs: number }>;
  rssMB: number;
  heapUsedMB: number;
  peakRssMB: number;
  peakHeapUsedMB: number;
  baseRssMB: number;
  baseHeapUsedMB: number;
  /** V8's `external` memory (ArrayBuffers, native objects V8 was told about). */
  externalMB: number;
  peakExternalMB: number;
  baseExternalMB: number;
  peers: number;
  connects: number;
  /** Accepted sockets; `reads`: data events, with the bytes they carried and the size of the buffers holding them. */
  sockets: { open: number; accepted: number; refusedAtAccept: number; peakOpen: number; lifetimes: LifetimeBuckets; reads: number; readBytes: number; readBuffers: number };
  failed: Record<string, number>;
  failedSamples: Record<string, string>;
  disconnects: Record<string, number>;
  legitFailures: string[];
  custommsgs: number;
  workDone: number;
  watched: Record<string, SocketState | undefined>;
  peerFates: Record<string, { code: string; reason: string; local: boolean } | undefined>;
  /** Of the peer ids asked about, those still connected. */
  connected: string[];
}

export type Command =
  | { cmd: 'baseline' }
  | { cmd: 'report'; watch?: string[]; peerIds?: string[]; gc?: boolean }
  | { cmd: 'resetLoop' }
  | { cmd: 'connect'; address: string; timeoutMs: number }
  | { cmd: 'close' };

/** What the attacker child is told to do. */
export type AttackCommand =
  | { cmd: 'halfOpen'; port: number; count: number; sources: string[]; sendBytes?: number }
  | { cmd: 'handshakes'; port: number; victimId: string; count: number; sources: string[]; sendInit: boolean }
  | { cmd: 'pingFlood'; port: number; victimId: string; count: number; pongBytes: number; source: string }
  | { cmd: 'customFlood'; port: number; victimId: string; count: number; size: number; source: string }
  | { cmd: 'actOne'; port: number; victimId: string; durationMs: number; concurrency: number; sources: string[] }
  | { cmd: 'actOneSync'; port: number; victimId: string; count: number; sources: string[]; thenIdle?: { count: number; sources: string[] } }
  | { cmd: 'status' }
  | { cmd: 'stop' };

/** The attacker's own view of its connections. */
export interface AttackStatus {
  /** Connections it opened (TCP connected). */
  connected: number;
  /** Connections that failed to open (ECONNREFUSED, EADDRNOTAVAIL, timeouts). */
  connectErrors: Record<string, number>;
  /** Of the connected, how many the victim has closed, and how long each had lived (ms buckets). */
  closed: number;
  lifetimes: LifetimeBuckets;
  /** The flooder's connection, for the victim's socket report: "host:port" as the victim sees it. */
  key?: string;
  /** Messages (pings, custom messages) handed to the flooder's Peer. */
  sent?: number;
  /** Bytes the attacker wrote in all (on the wire or still waiting), and those still waiting in its process. */
  bytesWritten?: number;
  unsent?: number;
  /** Largest backlog the attacker had waiting (bytes the victim would not take yet). */
  maxUnsent?: number;
  /** The flooder's node id. */
  peerId?: string;
  /** How the flooder's connection ended, if it did. */
  closeReason?: string;
  done?: boolean;
  elapsedMs?: number;
  /** act-one replay: attempts, act twos received (handshakes the victim computed), refused. */
  attempts?: number;
  actTwos?: number;
  refused?: number;
  /** Handshakes completed (the `handshakes` attack). */
  ready?: number;
  /** actOneSync: ms from writing every act one to the last act two received. */
  answeredInMs?: number;
}

/** In a child process: answers each command from the harness with `handle`'s result (or its error), and exits with the harness. */
export function serveCommands<C>(handle: (command: C) => Promise<unknown>): void {
  process.on('message', (message: { id: number; command: C }) => {
    handle(message.command).then(
      (result) => process.send!({ id: message.id, result }),
      (err: unknown) => process.send!({ id: message.id, error: String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
