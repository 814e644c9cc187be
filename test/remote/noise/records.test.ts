import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  MAX_BUFFERED_CIPHERTEXT_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_REASSEMBLY_BYTES,
  MAX_RECORD_PLAINTEXT_BYTES,
  NoiseStreamReceiver,
  NoiseStreamSender,
  Reassembler,
  RecordOpener,
  RecordSealer,
  ReorderWindow,
  type SealedRecord,
  frameRecords,
  openNoiseStream,
} from "../../../src/remote/noise/index.ts";
import { caught } from "./helpers.ts";

const key = () => Uint8Array.from(randomBytes(32));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const utf8 = (s: string) => new TextEncoder().encode(s);
/** Each record's plaintext joined from its pieces. */
const framed = (m: Uint8Array) => frameRecords(m).map((pieces) => Buffer.concat(pieces));

/** A sender/receiver pair sharing one direction's key. */
function channel() {
  const k = key();
  return { sender: new NoiseStreamSender(k), receiver: new NoiseStreamReceiver(k) };
}

describe("transport records (remote.md §5.6)", () => {
  test("round trip: seq is the nonce, from 0, and each record opens in order", () => {
    const k = key();
    const sealer = new RecordSealer(k);
    const opener = new RecordOpener(k);
    const records = ["a", "bb", "ccc"].map((s) => sealer.seal(utf8(s)));
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(records.map((r) => r.ciphertext.length)).toEqual([17, 18, 19]);
    expect(records.map((r) => text(opener.open(r.ciphertext)))).toEqual(["a", "bb", "ccc"]);
  });

  test("a record over 60 KiB of plaintext is refused", () => {
    const err = caught(() => new RecordSealer(key()).seal(new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES + 1)));
    expect(err.code).toBe("limit");
    expect(err.message).toBe("record plaintext is 61441 bytes; at most 61440 are allowed");
  });

  test("a record sealed from pieces is the record of their concatenation; framing does not copy the message", () => {
    const k = key();
    const message = Uint8Array.from(randomBytes(150_000));
    const records = frameRecords(message);
    expect(records.map((pieces) => pieces.map((p) => p.byteLength))).toEqual([[4, 61436], [61440], [27124]]);
    expect(records.slice(1).every(([p]) => p!.buffer === message.buffer) && records[0]![1]!.buffer === message.buffer).toBe(true);
    const [fromPieces, fromJoined] = [new RecordSealer(k), new RecordSealer(k)];
    for (const pieces of records) {
      const a = fromPieces.seal(pieces);
      const b = fromJoined.seal(Buffer.concat(pieces));
      expect(a.byteLength).toBe(b.byteLength);
      expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(true);
    }
  });

  test("a tampered ciphertext, or one opened out of order, fails to decrypt", () => {
    const k = key();
    const sealer = new RecordSealer(k);
    const first = sealer.seal(utf8("first"));
    const second = sealer.seal(utf8("second"));
    const tampered = first.ciphertext.slice();
    tampered[2]! ^= 0x04;
    const err = caught(() => new RecordOpener(k).open(tampered));
    expect(err.code).toBe("decrypt");
    expect(err.message).toBe("decryption failed (nonce 0): authentication tag mismatch");
    expect(caught(() => new RecordOpener(k).open(second.ciphertext)).code).toBe("decrypt");
    expect(caught(() => new RecordOpener(k).open(new Uint8Array(15))).message).toBe(
      "ciphertext of 15 bytes is shorter than the 16-byte tag",
    );
  });
});

describe("reorder window (remote.md §5.7)", () => {
  const ct = (n = 16) => new Uint8Array(n);

  test("out-of-order records are held and released as a contiguous run", () => {
    const window = new ReorderWindow();
    const [a, b, c] = [ct(16), ct(17), ct(18)];
    expect(window.accept(2, c)).toEqual([]);
    expect(window.accept(1, b)).toEqual([]);
    const released = window.accept(0, a);
    expect(released.map((r) => r.length)).toEqual([16, 17, 18]);
    expect(window.expected).toBe(3);
  });

  test("a record held out of order is a copy: the relay frame that lent it may be reused", () => {
    const window = new ReorderWindow();
    const lent = ct(20).fill(7);
    const original = lent.slice();
    expect(window.accept(1, lent)).toEqual([]);
    lent.fill(0);
    const released = window.accept(0, ct());
    expect(released[1]).toEqual(original);
  });

  test("older and duplicate seqs are dropped silently; the first copy wins", () => {
    const window = new ReorderWindow();
    window.accept(0, ct());
    expect(window.accept(0, ct())).toEqual([]);
    expect(window.accept(2, ct(20))).toEqual([]);
    expect(window.accept(2, ct(30))).toEqual([]);
    expect(window.accept(1, ct(17)).map((r) => r.length)).toEqual([17, 20]);
  });

  test("seq more than 64 ahead is a stream error; exactly 64 is held", () => {
    const window = new ReorderWindow();
    expect(window.accept(64, ct())).toEqual([]);
    const err = caught(() => window.accept(65, ct()));
    expect(err.code).toBe("limit");
    expect(err.message).toBe("record seq 65 is more than 64 ahead of the expected seq 0");
  });

  test("64 records can wait out of order (the most the window allows) and then release at once", () => {
    const window = new ReorderWindow();
    for (let seq = 1; seq <= 64; seq++) expect(window.accept(seq, ct())).toEqual([]);
    expect(window.accept(0, ct())).toHaveLength(65);
  });

  test("more than 1 MiB of held ciphertext is a stream error", () => {
    const window = new ReorderWindow();
    const big = ct(65535);
    const fits = Math.floor(MAX_BUFFERED_CIPHERTEXT_BYTES / big.length);
    for (let seq = 1; seq <= fits; seq++) window.accept(seq, big);
    const err = caught(() => window.accept(fits + 1, big));
    expect(err.code).toBe("limit");
    expect(err.message).toBe("more than 1048576 bytes of ciphertext would wait out of order (expected seq 0)");
  });

  test("ciphertexts under 16 or over 65535 bytes are refused before being held", () => {
    const window = new ReorderWindow();
    expect(caught(() => window.accept(1, ct(15))).message).toBe("record ciphertext is 15 bytes; it must be 16 to 65535");
    expect(caught(() => window.accept(1, ct(65536))).message).toBe("record ciphertext is 65536 bytes; it must be 16 to 65535");
  });
});

describe("application framing (remote.md §5.6)", () => {
  test("one record completes several messages", () => {
    const chunks = [utf8('{"id":1}'), utf8('{"id":22}'), utf8('{"id":333}')].flatMap((m) => framed(m));
    const joined = Buffer.concat(chunks);
    expect(joined.subarray(0, 4).toString("hex")).toBe("00000008");
    expect(new Reassembler().push(joined).map(text)).toEqual(['{"id":1}', '{"id":22}', '{"id":333}']);
  });

  test("a message whole inside one record comes out as a view of it, not a copy", () => {
    const record = Uint8Array.of(0, 0, 0, 2, 0x7b, 0x7d, 0, 0, 0, 1);
    const reassembler = new Reassembler();
    const [message] = reassembler.push(record);
    expect(message).toEqual(Uint8Array.of(0x7b, 0x7d));
    expect(message!.buffer).toBe(record.buffer);
    expect(message!.byteOffset).toBe(4);
    // The header of the next message is complete but its body is not: it waits, copied.
    expect(reassembler.pendingBytes).toBe(4);
    expect(reassembler.push(Uint8Array.of(0x31)).map(text)).toEqual(["1"]);
  });

  test("one message spans many records, headers split across records too", () => {
    const message = Uint8Array.from(randomBytes(200_000));
    const chunks = framed(message);
    expect(chunks.map((c) => c.length)).toEqual([61440, 61440, 61440, 15684]);
    const bytes = Buffer.concat(chunks);
    const reassembler = new Reassembler();
    const out: Uint8Array[] = [];
    // Feed 1, 2, 3, … bytes at a time so every boundary position is crossed, header included.
    for (let at = 0, n = 1; at < bytes.length; at += n, n = (n % 7) + 1) out.push(...reassembler.push(bytes.subarray(at, at + n)));
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(Buffer.from(message))).toBe(true);
    expect(reassembler.pendingBytes).toBe(0);
  });

  test("a 64 MiB message header is accepted and holds at most 4 + 64 MiB", () => {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, MAX_MESSAGE_BYTES);
    const reassembler = new Reassembler();
    expect(reassembler.push(Buffer.concat([header, new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES - 4)]))).toEqual([]);
    expect(reassembler.pendingBytes).toBe(MAX_RECORD_PLAINTEXT_BYTES);
    expect(MAX_REASSEMBLY_BYTES).toBe(4 + 64 * 1024 * 1024);
  });

  test("a zero length, or one over 64 MiB, is a framing error", () => {
    const zero = caught(() => new Reassembler().push(Uint8Array.of(0, 0, 0, 0)));
    expect(zero.code).toBe("framing");
    expect(zero.message).toBe("incoming message of 0 bytes; a framed message is 1 to 67108864 bytes");
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, MAX_MESSAGE_BYTES + 1);
    expect(caught(() => new Reassembler().push(header)).message).toBe(
      "incoming message of 67108865 bytes; a framed message is 1 to 67108864 bytes",
    );
    expect(caught(() => frameRecords(new Uint8Array(0))).message).toBe(
      "outgoing message of 0 bytes; a framed message is 1 to 67108864 bytes",
    );
  });
});

describe("encrypted message stream", () => {
  test("messages round trip both ways over keys from one pair", () => {
    const k1 = key();
    const k2 = key();
    const harness = openNoiseStream({ send: k1, receive: k2 });
    const executor = openNoiseStream({ send: k2, receive: k1 });
    const up = harness.sender.send(utf8('{"method":"initialize"}'));
    expect(up.map((r) => r.seq)).toEqual([0]);
    expect(up.flatMap((r) => executor.receiver.receive(r.seq, r.ciphertext)).map(text)).toEqual(['{"method":"initialize"}']);
    const down = executor.sender.send(utf8('{"id":0,"result":{}}'));
    expect(down.flatMap((r) => harness.receiver.receive(r.seq, r.ciphertext)).map(text)).toEqual(['{"id":0,"result":{}}']);
  });

  test("a 1 MiB message sent as 18 records arrives whole even when records arrive reversed in pairs", () => {
    const { sender, receiver } = channel();
    const message = Uint8Array.from(randomBytes(1 << 20));
    const records = sender.send(message);
    expect(records).toHaveLength(18);
    const shuffled: SealedRecord[] = [];
    for (let i = 0; i < records.length; i += 2) shuffled.push(...records.slice(i, i + 2).reverse());
    const out = shuffled.flatMap((r) => receiver.receive(r.seq, r.ciphertext));
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(Buffer.from(message))).toBe(true);
  });

  test("a duplicated data frame is dropped, the stream goes on", () => {
    const { sender, receiver } = channel();
    const [a] = sender.send(utf8("1"));
    const [b] = sender.send(utf8("2"));
    expect(receiver.receive(a!.seq, a!.ciphertext).map(text)).toEqual(["1"]);
    expect(receiver.receive(a!.seq, a!.ciphertext)).toEqual([]);
    expect(receiver.receive(b!.seq, b!.ciphertext).map(text)).toEqual(["2"]);
  });

  test("a tampered record fails the stream, and the stream stays failed", () => {
    const { sender, receiver } = channel();
    const [a, b] = [...sender.send(utf8("one")), ...sender.send(utf8("two"))];
    const tampered = a!.ciphertext.slice();
    tampered[tampered.length - 1]! ^= 0x01;
    const err = caught(() => receiver.receive(0, tampered));
    expect(err.code).toBe("decrypt");
    expect(err.message).toBe("decryption failed (nonce 0): authentication tag mismatch");
    expect(caught(() => receiver.receive(b!.seq, b!.ciphertext)).message).toBe(
      "stream already failed: decryption failed (nonce 0): authentication tag mismatch",
    );
  });

  test("a record that decrypts under a different seq (swapped seq labels) fails", () => {
    const { sender, receiver } = channel();
    sender.send(utf8("one"));
    const [second] = sender.send(utf8("two"));
    expect(caught(() => receiver.receive(0, second!.ciphertext)).code).toBe("decrypt");
  });
});
