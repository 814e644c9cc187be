/**
 * RFC 6455 framing for the server side: a reader for what clients send
 * (masked frames, fragmentation, control frames, a message-size limit) and the
 * header of what the server sends (unmasked, never fragmented, no extensions —
 * execbox negotiates none).
 */

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Close codes execbox sends (RFC 6455 §7.4.1). */
export const CloseCode = { normal: 1000, protocolError: 1002, invalidData: 1007, tooBig: 1009 } as const;

/** Longest server frame header: 2 bytes + 8-byte extended length. */
export const MAX_FRAME_HEADER_BYTES = 10;
/** RFC 6455 §5.5: control frames carry at most 125 bytes. */
const MAX_CONTROL_PAYLOAD = 125;
/** The reader's buffer starts this small and shrinks back to it once a large frame is consumed. */
const SMALL_BUFFER_BYTES = 64 * 1024;
/**
 * A buffer grown for a frame up to this size is kept for the next frames
 * instead of shrinking back at once: a bulk upload (512 KiB tunnel writes)
 * otherwise allocated, zeroed and faulted in a fresh buffer per message —
 * a quarter of the executor's CPU. Below the 1 MiB at which messages are
 * admitted against the executor-wide room, so what each connection keeps is
 * bounded; `shrink()` gives it back once the connection is quiet.
 */
export const RETAINED_READ_BUFFER_BYTES = 1024 * 1024;

export type FrameEvent =
  /** `payload` may be a view of the reader's buffer: valid only during the callback. */
  | { kind: "message"; binary: boolean; payload: Uint8Array }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "pong" }
  | { kind: "close"; code: number | undefined }
  /** The peer broke the protocol: close with `code`, read nothing more. */
  | { kind: "fail"; code: number; reason: string };

/**
 * Writes the header of an unmasked, final frame with `payloadLength` bytes so
 * that it ends exactly at `end`; returns where it starts. `end` must leave room
 * for `MAX_FRAME_HEADER_BYTES` in front.
 */
export function writeFrameHeader(into: Uint8Array, end: number, opcode: number, payloadLength: number): number {
  if (payloadLength < 126) {
    into[end - 2] = 0x80 | opcode;
    into[end - 1] = payloadLength;
    return end - 2;
  }
  if (payloadLength < 0x10000) {
    into[end - 4] = 0x80 | opcode;
    into[end - 3] = 126;
    into[end - 2] = payloadLength >>> 8;
    into[end - 1] = payloadLength & 0xff;
    return end - 4;
  }
  const start = end - 10;
  into[start] = 0x80 | opcode;
  into[start + 1] = 127;
  const high = Math.floor(payloadLength / 0x100000000);
  const low = payloadLength >>> 0;
  for (let i = 0; i < 4; i++) {
    into[start + 2 + i] = (high >>> (24 - 8 * i)) & 0xff;
    into[start + 6 + i] = (low >>> (24 - 8 * i)) & 0xff;
  }
  return start;
}

/** A complete small frame (control frames, short texts) as its own bytes. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MAX_FRAME_HEADER_BYTES + payload.byteLength);
  out.set(payload, MAX_FRAME_HEADER_BYTES);
  const start = writeFrameHeader(out, MAX_FRAME_HEADER_BYTES, opcode, payload.byteLength);
  return out.subarray(start);
}

/** The most a close frame's reason may take (RFC 6455 §5.5: 125 bytes of payload, 2 for the code). */
const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

/** A close frame's payload: the code, then the reason in UTF-8, cut at a character boundary to fit. */
export function closePayload(code: number, reason = ""): Uint8Array {
  let text = new TextEncoder().encode(reason);
  if (text.byteLength > MAX_CLOSE_REASON_BYTES) {
    let cut = MAX_CLOSE_REASON_BYTES;
    while ((text[cut]! & 0xc0) === 0x80) cut--;
    text = text.subarray(0, cut);
  }
  const payload = new Uint8Array(2 + text.byteLength);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/**
 * Asked before the bytes of a data frame are buffered: `soFar` is its
 * message's size with this frame, `final` whether the message ends with it.
 * Returns the bytes reserved for the whole message (0: none needed, ask again
 * for its next frame), or null to stop reading until `push` is called again.
 */
export type AdmitMessage = (soFar: number, final: boolean) => number | null;

/**
 * Incremental reader of client frames. `push` appends received bytes and
 * hands every event they complete to `onEvent`, in order; after a `fail` or
 * `close` it reads nothing more. A message's size is checked from its header,
 * and it is admitted there, before its bytes are buffered; a message that must
 * wait stops the reader (its bytes stay buffered) until `push` is called again.
 */
export class FrameReader {
  private buf = new Uint8Array(SMALL_BUFFER_BYTES);
  private len = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private fragmentBinary = false;
  /** Bytes `admit` reserved for the message being read (0 while none were needed). */
  private reserved = 0;
  /** Size of the admitted frame being buffered (from its header), so the buffer is sized once for it. */
  private frameBytes = 0;
  private done = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly admit: AdmitMessage = () => 0,
    /** Read a server's frames (unmasked; a client, e.g. the relay's rendezvous socket) instead of a client's (masked). */
    private readonly readsServerFrames = false,
  ) {}

  /**
   * Takes `chunk` in pieces that fit the buffer, parsing after each: a large
   * frame's buffer is allocated once at its size, and a chunk that ends one
   * frame and starts the next never makes it grow past that.
   */
  push(chunk: Uint8Array, onEvent: (event: FrameEvent) => void): void {
    let off = 0;
    do {
      if (this.done) return;
      // Full with nothing parseable (a message waiting to be admitted): keep the rest of what arrived anyway.
      if (this.len === this.buf.byteLength && off < chunk.byteLength) this.resize(this.len + chunk.byteLength - off);
      const n = Math.min(chunk.byteLength - off, this.buf.byteLength - this.len);
      this.buf.set(chunk.subarray(off, off + n), this.len);
      this.len += n;
      off += n;
      this.parse(onEvent);
    } while (off < chunk.byteLength);
  }

  private parse(onEvent: (event: FrameEvent) => void): void {
    let pos = 0;
    this.frameBytes = 0;
    while (!this.done) {
      const parsed = this.parseAt(pos);
      if (parsed === null) break;
      pos = parsed.next;
      if (parsed.event) {
        if (parsed.event.kind === "fail" || parsed.event.kind === "close") this.done = true;
        onEvent(parsed.event);
      }
    }
    this.consume(pos);
  }

  /** Drops what was parsed. The buffer fits the frame in progress exactly if it is large, and is small again once it is consumed. */
  private consume(pos: number): void {
    const rest = this.len - pos;
    const fits = Math.max(SMALL_BUFFER_BYTES, this.frameBytes, rest);
    const keep = Math.max(fits, Math.min(this.buf.byteLength, RETAINED_READ_BUFFER_BYTES));
    if (this.buf.byteLength < fits || (this.buf.byteLength > keep && pos > 0)) {
      this.len = rest;
      this.resize(fits, pos);
      return;
    }
    if (pos > 0) this.buf.copyWithin(0, pos, pos + rest);
    this.len = rest;
  }

  /** Gives a retained large buffer back (the connection is quiet); nothing buffered is lost. */
  shrink(): void {
    if (this.buf.byteLength > SMALL_BUFFER_BYTES && this.len <= SMALL_BUFFER_BYTES && this.frameBytes === 0) this.resize(SMALL_BUFFER_BYTES);
  }

  /** A new buffer of `size` holding the `len` bytes found at `from`. */
  private resize(size: number, from = 0): void {
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(from, from + this.len));
    this.buf = next;
  }

  /** One frame at `pos`, or null while it is incomplete. */
  private parseAt(pos: number): { next: number; event?: FrameEvent } | null {
    const b = this.buf;
    if (this.len - pos < 2) return null;
    const fin = (b[pos]! & 0x80) !== 0;
    const opcode = b[pos]! & 0x0f;
    const masked = (b[pos + 1]! & 0x80) !== 0;
    let length = b[pos + 1]! & 0x7f;
    let at = pos + 2;
    const fail = (reason: string, code: number = CloseCode.protocolError) => ({ next: this.len, event: { kind: "fail" as const, code, reason } });
    if ((b[pos]! & 0x70) !== 0) return fail("reserved bits set without a negotiated extension");
    if (masked === this.readsServerFrames) return fail(masked ? "server frames must not be masked" : "client frames must be masked");
    if (length === 126) {
      if (this.len - at < 2) return null;
      length = (b[at]! << 8) | b[at + 1]!;
      at += 2;
    } else if (length === 127) {
      if (this.len - at < 8) return null;
      const high = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
      const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
      length = high * 0x100000000 + low;
      at += 8;
    }
    const control = opcode >= 0x8;
    if (control && (!fin || length > MAX_CONTROL_PAYLOAD)) return fail("invalid control frame");
    if (!control && this.fragmentBytes + length > this.maxMessageBytes) return fail("message too big", CloseCode.tooBig);
    if (!control && this.reserved === 0) {
      const reserved = this.admit(this.fragmentBytes + length, fin);
      if (reserved === null) return null;
      this.reserved = reserved;
    }
    const maskBytes = masked ? 4 : 0;
    if (this.len - at < maskBytes + length) {
      this.frameBytes = at + maskBytes + length - pos;
      return null;
    }
    const payload = b.subarray(at + maskBytes, at + maskBytes + length);
    if (masked) unmask(payload, b.subarray(at, at + 4));
    const next = at + maskBytes + length;
    const event = this.frameEvent(fin, opcode, payload);
    return event === undefined ? { next } : typeof event === "string" ? fail(event) : { next, event };
  }

  /** The event a complete frame makes, nothing for a non-final fragment, or a protocol error text. */
  private frameEvent(fin: boolean, opcode: number, payload: Uint8Array): FrameEvent | string | undefined {
    switch (opcode) {
      case Opcode.ping:
        return { kind: "ping", payload: payload.slice() };
      case Opcode.pong:
        return { kind: "pong" };
      case Opcode.close:
        return { kind: "close", code: payload.byteLength >= 2 ? (payload[0]! << 8) | payload[1]! : undefined };
      case Opcode.text:
      case Opcode.binary:
        if (this.fragments.length > 0) return "a new message started inside a fragmented one";
        if (fin) return this.message(opcode === Opcode.binary, payload);
        this.fragmentBinary = opcode === Opcode.binary;
        this.addFragment(payload);
        return undefined;
      case Opcode.continuation: {
        if (this.fragments.length === 0) return "continuation frame without a message";
        this.addFragment(payload);
        if (!fin) return undefined;
        const whole = new Uint8Array(this.fragmentBytes);
        let off = 0;
        for (const f of this.fragments) {
          whole.set(f, off);
          off += f.byteLength;
        }
        this.fragments = [];
        this.fragmentBytes = 0;
        return this.message(this.fragmentBinary, whole);
      }
      default:
        return `unknown opcode ${opcode}`;
    }
  }

  /** A complete message; the next one is admitted afresh. */
  private message(binary: boolean, payload: Uint8Array): FrameEvent {
    this.reserved = 0;
    return { kind: "message", binary, payload };
  }

  private addFragment(payload: Uint8Array): void {
    this.fragments.push(payload.slice());
    this.fragmentBytes += payload.byteLength;
  }
}

/**
 * XORs a client frame's payload with its mask in place, a 32-bit word at a
 * time where the payload is aligned (a byte at a time cost a third of the
 * executor's CPU receiving bulk uploads: 512 KiB `tunnel/write`s).
 */
export function unmask(payload: Uint8Array, mask: Uint8Array): void {
  const n = payload.byteLength;
  let i = 0;
  for (; i < n && (payload.byteOffset + i) % 4 !== 0; i++) payload[i]! ^= mask[i & 3]!;
  const words = (n - i) >>> 2;
  if (words > 0) {
    // The mask rotated to start at byte i, read in the platform's byte order as the payload words are.
    const rotated = new Uint8Array([mask[i & 3]!, mask[(i + 1) & 3]!, mask[(i + 2) & 3]!, mask[(i + 3) & 3]!]);
    const word = new Uint32Array(rotated.buffer)[0]!;
    const view = new Uint32Array(payload.buffer, payload.byteOffset + i, words);
    for (let k = 0; k < words; k++) view[k]! ^= word;
    i += words * 4;
  }
  for (; i < n; i++) payload[i]! ^= mask[i & 3]!;
}
