/**
 * Extension fields (src/protocol/extensions.ts) on a params struct of the
 * reference. They are read from a map only: the struct in array form (serde's
 * `visit_seq`) keeps the reference's exact length rules, so a client that
 * sends the reference's fields as an array sees the reference's errors.
 */
import { z } from "zod";

export function withMapFields<B extends z.ZodType, S extends z.ZodRawShape>(base: B, shape: S) {
  const fields = z.object(shape);
  return z.unknown().transform((value, ctx) => {
    const parsed = base.safeParse(value, { reportInput: true });
    const extra = parsed.success && !Array.isArray(value) ? fields.safeParse(value, { reportInput: true }) : null;
    const failed = !parsed.success ? parsed : extra && !extra.success ? extra : null;
    if (failed) {
      for (const issue of failed.error!.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path as PropertyKey[], input: (issue as { input?: unknown }).input });
      return z.NEVER;
    }
    return { ...(parsed.data as object), ...(extra?.data as object | undefined) };
  }) as unknown as z.ZodType<z.output<B> & z.output<z.ZodObject<S>>, z.input<B> & z.input<z.ZodObject<S>>>;
}
