/**
 * `WebSocket.readyState` values (WHATWG), written out: with a `webSocket` factory the library
 * must also run where there is no global `WebSocket` to read them from (Node.js 20).
 */
export const CONNECTING = 0;
export const OPEN = 1;
