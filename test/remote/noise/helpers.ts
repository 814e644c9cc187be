import { NoiseError, type Rng } from "../../../src/remote/noise/index.ts";

/**
 * Clatter's test `DummyRng`: each byte is `counter mod 256`, the counter
 * increments per byte. One instance is shared by both sides, as in the
 * published vector. Deterministic: tests and benches only.
 */
export function counterRng(seed: number): Rng {
  let counter = seed;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = counter++ & 0xff;
    return out;
  };
}

/** The `NoiseError` that `run` throws; fails the test if it throws anything else or nothing. */
export function caught(run: () => unknown): NoiseError {
  try {
    run();
  } catch (err) {
    if (err instanceof NoiseError) return err;
    throw err;
  }
  throw new Error("expected a NoiseError");
}

/** `caught` for a step that returns a promise. */
export async function rejected(run: () => Promise<unknown>): Promise<NoiseError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof NoiseError) return err;
    throw err;
  }
  throw new Error("expected a NoiseError");
}
