/**
 * README §2.1: the plain-HTTP side of the WebSocket listener (readiness,
 * routing, Origin rejection, upgrade validation).
 */
import { type Scenario, http } from "./types.ts";

/** Upgrade headers as a WebSocket client would send them, minus the method. */
const UPGRADE = {
  Connection: "Upgrade",
  Upgrade: "websocket",
  "Sec-WebSocket-Version": "13",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
};

export const httpScenarios: Scenario[] = [
  {
    name: "http/readyz",
    steps: [http("GET", "/readyz"), http("HEAD", "/readyz"), http("POST", "/readyz"), http("DELETE", "/readyz"), http("GET", "/readyz?x=1")],
  },
  { name: "http/unknown-paths", steps: [http("GET", "/foo"), http("GET", "/readyz/"), http("POST", "/foo"), http("GET", "/foo/bar")] },
  {
    name: "http/origin-forbidden",
    steps: [
      http("GET", "/readyz", { Origin: "http://127.0.0.1" }),
      http("GET", "/readyz", { Origin: "null" }),
      http("GET", "/", { ...UPGRADE, Origin: "http://example.com" }),
      http("GET", "/", { Origin: "http://example.com" }),
      http("GET", "/foo", { Origin: "x" }),
      http("POST", "/", { ...UPGRADE, Origin: "x" }),
    ],
  },
  {
    name: "http/root-without-valid-upgrade",
    steps: [
      http("GET", "/"),
      http("GET", "/?x=y"),
      http("POST", "/", UPGRADE),
      http("PUT", "/"),
      http("GET", "/", { ...UPGRADE, "Sec-WebSocket-Version": "12" }),
      http("GET", "/", { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13" }),
      http("GET", "/", { Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" }),
    ],
  },
];
