// Every row, in report order.
import { direct } from "./direct.ts";
import { leanRelay } from "./lean-relay.ts";
import type { Row } from "./row.ts";
import { socat } from "./socat.ts";
import {
  socket2webBinary,
  socket2webRoute,
  socket2webSource,
  socket2webTls,
  socket2webUrlForm,
} from "./socket2web.ts";
import { forwardClient, socksClient, socksMuxClient } from "./socket2web-clients.ts";
import { websockify } from "./websockify.ts";
import { wispJs } from "./wisp-js.ts";
import { wsCeiling } from "./ws-ceiling.ts";

export const ROWS: readonly Row[] = [
  direct,
  socat,
  websockify,
  wispJs,
  wsCeiling,
  leanRelay,
  socket2webSource,
  socket2webTls,
  socket2webUrlForm,
  socket2webRoute,
  socket2webBinary,
  forwardClient,
  socksClient,
  socksMuxClient,
];
