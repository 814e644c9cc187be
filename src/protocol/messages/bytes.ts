import { z } from "zod";
import { Base64Error, decodeBase64 } from "../base64.ts";
import { lazy, str } from "../serde.ts";

/** A base64 payload decoded while params are parsed; bad input is -32602 with the decoder's text. */
export const Base64Chunk = lazy(() =>
  str().transform((text, ctx) => {
    try {
      return decodeBase64(text);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: e instanceof Base64Error ? e.message : String(e) });
      return z.NEVER;
    }
  }),
);
