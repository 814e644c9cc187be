/**
 * Frame ownership as the type checker enforces it (checked by
 * test/typecheck.test.ts): a lent frame cannot go where frames are kept, and
 * only `keepFrame` turns one into a frame that may be kept.
 */
import { type LentFrame, encodeOutputFrame } from "../../src/protocol/byte-frame.ts";
import { type KeptFrame, keepFrame } from "../../src/server/flow.ts";

const lent: LentFrame = encodeOutputFrame("p", 1, "stdout", new Uint8Array(1));
const queue: KeptFrame[] = [];
// @ts-expect-error a lent frame cannot be queued: it is valid only during its send
queue.push(lent);
queue.push(keepFrame(lent));
// @ts-expect-error a plain view of bytes is not a lent frame: only the encoders lend
export const forged: LentFrame = { buf: new Uint8Array(1), start: 0, end: 1 };
