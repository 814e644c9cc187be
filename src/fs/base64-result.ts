/**
 * The results that carry file bytes (`fs/readBlock`, `fs/readFile`) write
 * their own reply text: head + base64 + tail, without JSON.stringify scanning
 * and copying megabytes of base64 once more. The read buffer is freed (or
 * handed back for the next block) as soon as it is encoded into the reply
 * frame (bytes, no string), so reading a big file in blocks keeps the
 * server's memory bounded. Read as objects (getters, `toJSON`)
 * they are the plain results.
 */
import { encodeBase64 } from "../protocol/base64.ts";
import { type LentFrame, encodeBase64Frame } from "../protocol/byte-frame.ts";
import { releaseBuffer } from "../protocol/frame-memory.ts";
import { SelfEncodingResult } from "../protocol/envelope.ts";

abstract class Base64Result extends SelfEncodingResult {
  #bytes: Uint8Array | null;
  readonly #recycle: (() => void) | undefined;

  /** `recycle`: the bytes' buffer is the caller's to reuse once encoded; without it, it is freed. */
  constructor(bytes: Uint8Array, recycle?: () => void) {
    super();
    this.#bytes = bytes;
    this.#recycle = recycle;
  }

  protected abstract readonly key: string;
  /** The JSON members after the base64 one, each with its leading comma. */
  protected abstract after(): string;

  protected get base64(): string {
    if (!this.#bytes) throw new Error("result already encoded");
    return encodeBase64(this.#bytes);
  }

  /** Encodes the reply straight into a byte frame and lets go of the bytes: once. */
  response(idJson: string): LentFrame {
    if (!this.#bytes) throw new Error("result already encoded");
    const frame = encodeBase64Frame(`{"id":${idJson},"result":{"${this.key}":"`, this.#bytes, `"${this.after()}}}`);
    if (this.#recycle) this.#recycle();
    else releaseBuffer(this.#bytes);
    this.#bytes = null;
    return frame;
  }
}

/** `{ chunk, eof }` of `fs/readBlock`. */
export class BlockResult extends Base64Result {
  protected readonly key = "chunk";

  constructor(
    bytes: Uint8Array,
    readonly eof: boolean,
    recycle?: () => void,
  ) {
    super(bytes, recycle);
  }

  get chunk(): string {
    return this.base64;
  }

  protected after(): string {
    return `,"eof":${this.eof}`;
  }

  toJSON(): { chunk: string; eof: boolean } {
    return { chunk: this.chunk, eof: this.eof };
  }
}

/** `{ dataBase64 }` of `fs/readFile`. */
export class FileDataResult extends Base64Result {
  protected readonly key = "dataBase64";

  get dataBase64(): string {
    return this.base64;
  }

  protected after(): string {
    return "";
  }

  toJSON(): { dataBase64: string } {
    return { dataBase64: this.dataBase64 };
  }
}
