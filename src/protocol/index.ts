export * from "./errors.ts";
export * from "./envelope.ts";
export * from "./methods.ts";
export * from "./path-uri.ts";
export * from "./base64.ts";
export * as messages from "./messages/index.ts";
