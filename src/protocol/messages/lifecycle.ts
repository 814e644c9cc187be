import { z } from "zod";
import { lazy, opt, str, struct } from "../serde.ts";
import { EnvironmentInfo } from "./environment.ts";

export const InitializeParams = lazy(() =>
  struct("InitializeParams", {
    clientName: str(),
    resumeSessionId: opt(str()),
  }),
);
export type InitializeParams = z.infer<typeof InitializeParams>;

export const InitializeResult = lazy(() =>
  z.object({
    sessionId: z.string(),
    environmentInfo: EnvironmentInfo,
  }),
);
export type InitializeResult = z.infer<typeof InitializeResult>;
