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
export const mapOf = <T extends z.ZodType>(value: T) => z.record(z.string(), value, expecting("a map"));
export const strMap = () => mapOf(str());
/** How a struct reads from a JSON array (serde's `visit_seq`). */
export type StructOptions = {
  /**
   * Every field is `#[serde(default)]` on the reference: a short array leaves
   * the rest at their defaults (`metadata: []` is accepted) instead of
   * `invalid length n`. Off by default: a plain `Option` field still needs its element.
   */
  seqDefaults?: boolean;
  /** The reference reads this struct from a map only (it flattens a member): an array is `invalid type: sequence`. */
  mapOnly?: boolean;
};

/**
 * execbox's own optional fields on a reference struct (src/protocol/extensions.ts):
 * read from a map only, after the reference's, so the array form (and its
 * `invalid length` errors) stays exactly the reference's.
 */
export type StructExtensions<E extends z.ZodRawShape> = { extensions?: E };

/**
 * A params struct. Like serde, it also accepts its fields as an array in
 * declaration order: elements are checked in order, then a short array is
 * `invalid length n, expected struct X with m elements` and a long one
 * `invalid length n, expected fewer elements in array`.
 */
export const struct = <T extends z.ZodRawShape, E extends z.ZodRawShape = {}>(name: string, shape: T, options: StructOptions & StructExtensions<E> = {}) => {
  const keys = Object.keys(shape);
  const object = z.object({ ...shape, ...options.extensions }, expecting(`struct ${name}`));
  // The first element serde would find missing: any missing one, or with defaults only a required one.
  const firstMissing = (length: number) =>
    keys.findIndex((k, i) => i >= length && !(options.seqDefaults && (shape[k] as z.ZodType).safeParse(undefined).success));
  return z.unknown().transform((value, ctx) => {
    let input = value;
    let lengthProblem: string | undefined;
    if (Array.isArray(value) && !options.mapOnly) {
      input = Object.fromEntries(keys.slice(0, value.length).map((k, i) => [k, value[i]]));
      const missing = firstMissing(value.length);
      if (value.length > keys.length) lengthProblem = `invalid length ${value.length}, expected fewer elements in array`;
      else if (missing >= 0) lengthProblem = `invalid length ${missing}, expected struct ${name} with ${keys.length} elements`;
    }
    const parsed = object.safeParse(input, { reportInput: true });
    // A wrong element comes before the length check, as serde reads the elements first.
    const issues = parsed.success ? [] : parsed.error.issues.filter((i) => !lengthProblem || i.message !== MISSING);
    if (issues.length === 0 && lengthProblem) issues.push({ code: "custom", message: lengthProblem, path: [], input: value });
    for (const issue of issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[], input: issue.input });
    return parsed.success && issues.length === 0 ? parsed.data : z.NEVER;
    // The wire input type is still the object's.
  }) as unknown as z.ZodType<z.output<z.ZodObject<T & E>>, z.input<z.ZodObject<T & E>>>;
};

/**
 * A string enum of unit variants: unknown values give serde's `unknown
 * variant` text. Like serde, it also reads a map of one key, the variant, to
 * `null` (`{"interrupt": null}`); other maps are `expected map with a single key`.
 */
export function variant<const T extends readonly [string, ...string[]]>(values: T, options: { unknown?: (value: string) => string } = {}) {
  const names = values.map((v) => `\`${v}\``);
  const list =
    names.length === 1 ? names[0] : names.length === 2 ? `${names[0]} or ${names[1]}` : `one of ${names.join(", ")}`;
  const unitVariant = (value: unknown): unknown => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const entries = Object.entries(value);
    if (entries.length !== 1) return Symbol("map");
    const [name, unit] = entries[0]!;
    return unit === null || !values.includes(name) ? name : Symbol(describeValue(unit));
  };
  return z.preprocess(
    unitVariant,
    z
      .string({
        error: (iss: { input?: unknown; code?: string }) =>
          typeof iss.input !== "symbol"
            ? expecting("string or map").error(iss)
            : iss.input.description === "map"
              ? "invalid value: map, expected map with a single key"
              : `invalid type: ${iss.input.description}, expected unit`,
      })
      .refine((v): v is T[number] => values.includes(v), {
        error: (iss) => options.unknown?.(String(iss.input)) ?? `unknown variant \`${String(iss.input)}\`, expected ${list}`,
      }),
  ) as unknown as z.ZodType<T[number]>;
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
