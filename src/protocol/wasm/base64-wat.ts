/**
 * The source of the base64 encoder's WebAssembly module, as WebAssembly text.
 * `bun run wasm` assembles it (wabt's `wat2wasm`) into `base64-wasm.ts`; the
 * test suite checks that the two still agree wherever wat2wasm is installed.
 *
 * 128-bit SIMD, 12 input bytes → 16 symbols a step (Muła's method, with
 * WebAssembly's swizzle for both shuffles). The step is written out
 * `UNROLL` times per turn of the loop because JavaScriptCore does not inline
 * a call to it: measured, 4 steps a turn encode 256 MiB in ~57 ms, 1 step (or
 * 4 calls) in ~90 ms, 8 steps no faster than 4.
 */

/** Steps per turn of the loop; `encode` handles whole blocks of `BLOCK_BYTES`. */
const UNROLL = 4;
export const BLOCK_BYTES = 12 * UNROLL;

const splat8 = (n: number) => `(v128.const i8x16 ${Array(16).fill(n).join(" ")})`;
const splat32 = (n: string) => `(v128.const i32x4 ${Array(4).fill(n).join(" ")})`;

/** One step: the 12 bytes at $src + k·12 → 16 symbols at $dst + k·16. */
function step(k: number): string {
  return `
    ;; step ${k}: each 32-bit lane holds one 3-byte group s0 s1 s2 as s0<<16 | s1<<8 | s2
    (local.set $v
      (i8x16.swizzle
        (v128.load offset=${12 * k} align=1 (local.get $src))
        (v128.const i8x16 2 1 0 0x80 5 4 3 0x80 8 7 6 0x80 11 10 9 0x80)))
    ;; its four 6-bit indices, the first in the lowest byte
    (local.set $idx
      (v128.or
        (v128.or
          (v128.and (i32x4.shr_u (local.get $v) (i32.const 18)) ${splat32("0x3f")})
          (v128.and (i32x4.shr_u (local.get $v) (i32.const 4)) ${splat32("0x3f00")}))
        (v128.or
          (v128.and (i32x4.shl (local.get $v) (i32.const 10)) ${splat32("0x3f0000")})
          (v128.and (i32x4.shl (local.get $v) (i32.const 24)) ${splat32("0x3f000000")}))))
    ;; index → symbol, adding the offset of its range:
    ;; 0-25 +65 'A', 26-51 +71 'a', 52-61 -4 '0', 62 -19 '+', 63 -16 '/'
    (v128.store offset=${16 * k} align=1 (local.get $dst)
      (i8x16.add
        (local.get $idx)
        (i8x16.swizzle
          (v128.const i8x16 71 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -19 -16 65 0 0)
          (v128.bitselect
            ${splat8(13)}
            (i8x16.sub_sat_u (local.get $idx) ${splat8(51)})
            (i8x16.lt_u (local.get $idx) ${splat8(26)})))))`;
}

/**
 * `encode(src, n, dst)`: the whole blocks of [src, src + n) → symbols at dst.
 * A step loads 16 bytes for its 12, so 4 readable bytes must follow the
 * input. The memory is the caller's (imported, fixed size).
 */
export function base64Wat(): string {
  const steps = Array.from({ length: UNROLL }, (_, k) => step(k)).join("\n");
  return `(module
  (import "env" "memory" (memory 1))
  (func (export "encode") (param $src i32) (param $n i32) (param $dst i32)
    (local $end i32)
    (local $v v128)
    (local $idx v128)
    (local.set $end (i32.add (local.get $src) (local.get $n)))
    (block $done
      (loop $block
        (br_if $done (i32.gt_u (i32.add (local.get $src) (i32.const ${BLOCK_BYTES})) (local.get $end)))
${steps}
        (local.set $src (i32.add (local.get $src) (i32.const ${BLOCK_BYTES})))
        (local.set $dst (i32.add (local.get $dst) (i32.const ${16 * UNROLL})))
        (br $block)))))
`;
}
