export * from "./environment.ts";
export * from "./lifecycle.ts";
export * from "./process.ts";
export * from "./bytes.ts";
export * from "./fs.ts";
export * from "./http.ts";
export * from "./sandbox.ts";
export * from "./process-list.ts";
