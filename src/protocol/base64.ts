/**
 * Strict standard base64 (RFC 4648 `+/`, padding required, no whitespace), as
 * the reference decodes `chunk`, `dataBase64` and `bodyBase64`. Failures carry
 * the reference's texts (`Invalid symbol 33, offset 0.`, `Invalid padding`).
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
const PAD = 61; // '='
const WELL_FORMED = /^[A-Za-z0-9+/]*={0,2}$/;

export class Base64Error extends Error {}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Decodes or throws `Base64Error` with the reference's message. */
export function decodeBase64(text: string): Buffer {
  if (text.length % 4 === 0 && WELL_FORMED.test(text) && lastSymbolCanonical(text)) {
    return Buffer.from(text, "base64");
  }
  throw new Base64Error(describeInvalid(text));
}

function paddingOf(text: string): number {
  return text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
}

/** The bits a short final quantum does not use must be zero. */
function lastSymbolCanonical(text: string): boolean {
  const pad = paddingOf(text);
  if (pad === 0 || text.length === 0) return true;
  const last = VALUE[text.charCodeAt(text.length - pad - 1)]!;
  return pad === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

function describeInvalid(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  // A byte outside the alphabet is reported before any misplaced padding.
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== PAD && VALUE[bytes[i]!] === -1) return `Invalid symbol ${bytes[i]}, offset ${i}.`;
  }
  let symbols = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === PAD) {
      // Padding is only allowed as the final one or two bytes of the input.
      const rest = bytes.subarray(i);
      if (rest.every((x) => x === PAD) && rest.length <= 2) break;
      return `Invalid symbol ${b}, offset ${i}.`;
    }
    if (VALUE[b] === -1) return `Invalid symbol ${b}, offset ${i}.`;
    symbols++;
  }
  if (symbols % 4 === 1) return `Invalid input length: ${symbols}`;
  if (bytes.length % 4 !== 0) return "Invalid padding";
  const pad = paddingOf(text);
  const index = bytes.length - pad - 1;
  return `Invalid last symbol ${bytes[index]}, offset ${index}.`;
}
