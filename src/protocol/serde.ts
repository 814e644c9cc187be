/**
 * zod building blocks whose failures read like the reference's serde errors
 * (`missing field \`x\``, `invalid type: string "1", expected u64`,
 * `invalid number`, `unknown variant \`kill\`, expected \`interrupt\``).
 * Every wire schema is built from these so the texts are produced in one place.
 */
import { z } from "zod";

/** Marker message for a required field that was absent; replaced by the field name. */
export const MISSING = "\u0000missing";
/** 2^64 - 1 as the nearest double; larger integers are `invalid number`. */
export const U64_MAX = 18446744073709551615;

/** serde's `Unexpected` display of a JSON value. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return `boolean \`${v}\``;
  // The reference decodes params from an arbitrary-precision JSON value, so every number is just "number".
  if (typeof v === "number") return "number";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (Array.isArray(v)) return "sequence";
  return "map";
}

function expecting(expected: string) {
  return {
    error: (iss: { input?: unknown; code?: string; message?: string }) =>
      iss.code === "invalid_type" || iss.code === undefined
        ? iss.input === undefined
          ? MISSING
          : `invalid type: ${describeValue(iss.input)}, expected ${expected}`
        : undefined,
  };
}

export const str = () => z.string(expecting("a string"));
export const bool = () => z.boolean(expecting("a boolean"));
/** Unsigned 64-bit integer field; negatives, fractions and out-of-range values are `invalid number`. */
export const u64 = () => unsigned("u64");
/** `usize` fields (walk limits) read the same as u64 but are named so in errors. */
export const usize = () => unsigned("usize");

function unsigned(name: string) {
  const types = expecting(name);
  return z
    .number({
      // NaN stands for a number that was not an exact integer on the wire (`json-numbers.ts`).
      error: (iss: { input?: unknown; code?: string }) => (Number.isNaN(iss.input) ? "invalid number" : types.error(iss)),
    })
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= U64_MAX, { message: "invalid number" });
}
export const seq = <T extends z.ZodType>(item: T) => z.array(item, expecting("a sequence"));
export const strMap = () => z.record(z.string(), str(), expecting("a map"));
/**
 * A params struct. Like serde, it also accepts its fields as an array in
 * declaration order; a short array is `invalid length n, expected struct X with m elements`.
 */
export const struct = <T extends z.ZodRawShape>(name: string, shape: T) => {
  const keys = Object.keys(shape);
  const positional = (v: unknown) => {
    if (!Array.isArray(v)) return v;
    // A symbol is not an object, so zod reports it as a type error we can reword.
    if (v.length !== keys.length) return Symbol(String(v.length));
    return Object.fromEntries(keys.map((k, i) => [k, v[i]]));
  };
  return z.preprocess(
    positional,
    z.object(shape, {
      error: (iss: { input?: unknown; code?: string }) =>
        typeof iss.input === "symbol"
          ? `invalid length ${iss.input.description}, expected struct ${name} with ${keys.length} elements`
          : expecting(`struct ${name}`).error(iss),
    }),
    // The preprocess step only reshapes arrays; the wire input type is still the object's.
  ) as unknown as z.ZodType<z.output<z.ZodObject<T>>, z.input<z.ZodObject<T>>>;
};

/** A string enum: unknown values give serde's `unknown variant` text. */
export function variant<const T extends readonly [string, ...string[]]>(values: T) {
  const names = values.map((v) => `\`${v}\``);
  const list =
    names.length === 1 ? names[0] : names.length === 2 ? `${names[0]} or ${names[1]}` : `one of ${names.join(", ")}`;
  return z.string(expecting("string or map")).refine((v): v is T[number] => values.includes(v), {
    error: (iss) => `unknown variant \`${String(iss.input)}\`, expected ${list}`,
  }) as unknown as z.ZodType<T[number]>;
}

/** `Option<T>`: absent or `null` both mean "not given". */
export const opt = <T extends z.ZodType>(s: T) => s.nullish();

/**
 * Picks the error serde would report first: a wrong value among the present
 * keys, else the first missing required field, and renders its message.
 */
export function serdeMessage(error: z.ZodError): string {
  const issues = error.issues;
  const wrong = issues.find((i) => i.message !== MISSING);
  if (wrong) return wrong.message;
  const missing = issues[0];
  const field = missing?.path[missing.path.length - 1];
  return `missing field \`${String(field)}\``;
}

/**
 * A schema built on first use. Building every wire schema at startup cost
 * ~8 ms and ~3 MiB (zod objects are not cheap to construct), and a server
 * streaming processes never touches most of them. The stand-in forwards
 * everything to the schema once built, so it nests and parses like it.
 */
export function lazy<T extends object>(build: () => T): T {
  let built: T | undefined;
  const target = () => (built ??= build());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key),
    has: (_, key) => Reflect.has(target(), key),
    set: (_, key, value) => Reflect.set(target(), key, value),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      // The stand-in's own target is an empty, extensible object: a forwarded property must read as configurable.
      return d && { ...d, configurable: true };
    },
  });
}
