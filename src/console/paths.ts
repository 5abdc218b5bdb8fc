/** The console's HTTP paths, shared by its route (server) and its page (browser). */
export const CONSOLE_PATHS = {
  page: "/",
  script: "/console/app.js",
  style: "/console/app.css",
  /**
   * POST: would this page's WebSocket be refused, and why. The browser hides a refused
   * upgrade's answer (the page sees only close code 1006), so the page asks here; a POST, so
   * that the browser sends the page's Origin as it does with the upgrade.
   */
  admission: "/console/admission",
} as const;
