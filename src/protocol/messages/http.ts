import { z } from "zod";
import { bool, lazy, opt, seq, str, struct, u64, variant } from "../serde.ts";

export const HttpHeader = lazy(() => struct("HttpHeader", { name: str(), value: str(), valueEnvVar: opt(str()) }));

export const HttpRequestParams = lazy(() =>
  struct("HttpRequestParams", {
    method: str(),
    url: str(),
    requestId: str(),
    headers: seq(HttpHeader).optional(),
    bodyBase64: opt(str()),
    timeoutMs: opt(u64()),
    redirectPolicy: variant(["follow", "stop"]).optional(),
    streamResponse: bool().optional(),
  }),
);
export type HttpRequestParams = z.infer<typeof HttpRequestParams>;

export const HttpResponse = lazy(() =>
  z.object({
    status: z.number(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })),
    bodyBase64: z.string(),
  }),
);
export type HttpResponse = z.infer<typeof HttpResponse>;

export const HttpBodyDeltaNotification = lazy(() =>
  z.object({
    requestId: z.string(),
    seq: z.number(),
    deltaBase64: z.string(),
    done: z.boolean(),
    error: z.string().nullable(),
  }),
);
