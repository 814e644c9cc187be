import { z } from "zod";
import { opt, str, struct } from "../serde.ts";
import { EnvironmentInfo } from "./environment.ts";

export const InitializeParams = struct("InitializeParams", {
  clientName: str(),
  resumeSessionId: opt(str()),
});
export type InitializeParams = z.infer<typeof InitializeParams>;

export const InitializeResult = z.object({
  sessionId: z.string(),
  environmentInfo: EnvironmentInfo,
});
export type InitializeResult = z.infer<typeof InitializeResult>;
