/**
 * Call types derived from the one method table (src/protocol/methods.ts), so a
 * method name fixes its params and result types.
 */
import type { z } from "zod";
import type { MethodName, Methods, ParamsOf, WireParamsOf } from "../protocol/methods.ts";

/** Methods a caller may send; the client itself sends `initialize`. */
export type CallableMethod = Exclude<MethodName, "initialize">;

/** On the wire, byte fields (`chunk`) are base64 strings, not the decoded bytes. */
type WireValue<T> = T extends Uint8Array ? string : T;
type DerivedWire<M extends MethodName> = { [K in keyof ParamsOf<M>]: WireValue<ParamsOf<M>[K]> };

/**
 * What the caller sends for method M. This is `WireParamsOf<M>` — except that
 * the params structs are `z.preprocess` pipes (they also accept positional
 * arrays), whose zod input type is `unknown`; then the type is derived from
 * the decoded params with byte fields back as base64 strings.
 */
export type CallParams<M extends MethodName> = (typeof Methods)[M]["params"] extends z.ZodType
  ? unknown extends WireParamsOf<M>
    ? DerivedWire<M>
    : WireParamsOf<M>
  : undefined | null | Record<string, never>;

/** Methods without params take none; the rest require their params object. */
export type CallArgs<M extends MethodName> = (typeof Methods)[M]["params"] extends z.ZodType
  ? [params: CallParams<M>, options?: CallOptions]
  : [params?: CallParams<M>, options?: CallOptions];

export type CallOptions = {
  /** Overrides the client's per-call timeout for this call. */
  timeoutMs?: number;
};
