/**
 * A FIFO of byte chunks that hands out exact-size slices. Taking `n` bytes costs O(n)
 * however the stream was chunked (one byte at a time included), and a slice that lies
 * inside one chunk is a view, not a copy.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private index = 0; // the first chunk with unread bytes
  private head = 0; // offset of the first unread byte in chunks[index]
  private total = 0;

  /** Number of bytes buffered. */
  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /**
   * Removes and returns the next `n` bytes; the caller checks `length >= n` first. Bytes that
   * span chunks are copied into `scratch` when it is given and large enough (the caller then
   * uses them before the next call), else into a new array.
   */
  take(n: number, scratch?: Uint8Array): Uint8Array {
    const first = this.chunks[this.index];
    if (first.length - this.head >= n) {
      const view = first.subarray(this.head, this.head + n);
      this.consume(n);
      return view;
    }
    const out = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.index];
      const count = Math.min(n - filled, chunk.length - this.head);
      out.set(chunk.subarray(this.head, this.head + count), filled);
      filled += count;
      this.consume(count);
    }
    return out;
  }

  private consume(n: number): void {
    this.head += n;
    this.total -= n;
    if (this.head < this.chunks[this.index].length) return;
    this.head = 0;
    this.index++;
    // Drop consumed chunks in bulk, so that a stream of tiny chunks stays O(n).
    if (this.index === this.chunks.length) {
      this.chunks = [];
      this.index = 0;
    } else if (this.index >= 1024) {
      this.chunks = this.chunks.slice(this.index);
      this.index = 0;
    }
  }
}
