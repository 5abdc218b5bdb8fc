import type { SupportedProtocols } from "../../client/messages.ts";
import { exportJsonLines, exportPcapng } from "../export.ts";
import {
  formatClock,
  formatElapsed,
  formatSize,
  HexInputError,
  hexDump,
  type LineEnding,
  parseHex,
  showText,
  textBytes,
} from "../format.ts";
import { ConsoleSession, type LogEntry } from "../session.ts";
import { download, h } from "./dom.ts";
import { whyRefused } from "./greeting.ts";

/** Rows the log keeps on screen; older ones leave the page (the recording keeps them). */
const MAX_ROWS = 500;
/** Bytes of one chunk shown in its row. */
const MAX_SHOWN_BYTES = 4096;
const MAX_HISTORY = 50;

const ARROWS: Record<LogEntry["kind"], string> = {
  sent: "→",
  received: "←",
  status: "✓",
  error: "✗",
  closed: "■",
  note: "·",
};

let tabCount = 0;

/** One session in one tab: its form, its status, its log and its send bar. */
export class SessionTab {
  readonly number = ++tabCount;
  readonly panel: HTMLElement;
  readonly button: HTMLButtonElement;
  private session: ConsoleSession | undefined;
  private readonly form: HTMLFormElement;
  private readonly connectButton: HTMLButtonElement;
  private readonly fields: HTMLElement;
  private readonly protocol: HTMLSelectElement;
  private readonly token: HTMLInputElement;
  private readonly stateBadge: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly counters: HTMLElement;
  private readonly log: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly mode: HTMLSelectElement;
  private readonly ending: HTMLSelectElement;
  private readonly history: HTMLSelectElement;
  private readonly sendError: HTMLElement;
  private readonly hexView: HTMLInputElement;
  private readonly pauseButton: HTMLButtonElement;
  private paused = false;
  private sent: string[] = [];
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly url: string,
    private readonly protocols: SupportedProtocols,
    private readonly onRemove: (tab: SessionTab) => void,
  ) {
    this.button = h(
      "button",
      { type: "button", class: "tab", "data-testid": "tab", role: "tab" },
      `Session ${this.number}`,
    );
    this.protocol = h(
      "select",
      { name: "protocol", "data-testid": "protocol", onchange: () => this.renderFields() },
      ...Object.keys(protocols).map((name) => h("option", { value: name }, name)),
    );
    this.fields = h("div", { class: "fields" });
    this.token = h("input", {
      type: "password",
      name: "token",
      "data-testid": "token",
      autocomplete: "off",
      placeholder: "only where the proxy asks for one",
    });
    this.connectButton = h("button", { type: "submit", "data-testid": "connect" }, "Connect");
    this.form = h(
      "form",
      { class: "connect", onsubmit: (event: Event) => this.connect(event) },
      h("label", {}, "Protocol", this.protocol),
      this.fields,
      h("label", {}, "Token", this.token),
      this.connectButton,
    );
    this.stateBadge = h("span", { class: "state", "data-testid": "state" }, "not connected");
    this.statusLine = h("span", { class: "status", "data-testid": "status" });
    this.counters = h("span", { class: "counters" });
    this.hexView = h("input", {
      type: "checkbox",
      "data-testid": "view-hex",
      onchange: () => this.rerender(),
    });
    this.pauseButton = h(
      "button",
      { type: "button", "data-testid": "pause", onclick: () => this.togglePause() },
      "Pause",
    );
    this.log = h("div", { class: "log", "data-testid": "log", role: "log" });
    this.input = h("textarea", {
      rows: 2,
      "data-testid": "send-input",
      placeholder: "text to send (Enter sends, Shift+Enter for a new line)",
      onkeydown: (event: Event) => this.onKey(event as KeyboardEvent),
    });
    this.mode = h(
      "select",
      { "data-testid": "send-mode", onchange: () => this.renderEnding() },
      h("option", { value: "text" }, "text"),
      h("option", { value: "hex" }, "hex bytes"),
    );
    // CRLF first: most text protocols (redis, HTTP, SMTP, …) answer a line only once it ends.
    this.ending = h(
      "select",
      { "data-testid": "line-ending", title: "added to each text message sent" },
      h("option", { value: "crlf" }, "+ CRLF \\r\\n"),
      h("option", { value: "lf" }, "+ LF \\n"),
      h("option", { value: "cr" }, "+ CR \\r"),
      h("option", { value: "none" }, "no line ending"),
    );
    this.history = h(
      "select",
      { "data-testid": "history", onchange: () => this.recall() },
      h("option", { value: "" }, "history"),
    );
    this.sendError = h("span", { class: "send-error", "data-testid": "send-error" });
    this.panel = h(
      "section",
      { class: "panel", role: "tabpanel" },
      this.form,
      h("div", { class: "bar" }, this.stateBadge, this.statusLine, this.counters),
      h(
        "div",
        { class: "tools" },
        h(
          "button",
          { type: "button", "data-testid": "close-session", onclick: () => this.session?.close() },
          "Close session",
        ),
        this.pauseButton,
        h(
          "button",
          { type: "button", "data-testid": "clear", onclick: () => this.clear() },
          "Clear",
        ),
        h("label", {}, this.hexView, "hex dump"),
        h("span", { class: "spacer" }),
        "Export: ",
        h(
          "button",
          {
            type: "button",
            "data-testid": "export-pcapng",
            onclick: () => this.exportAs("pcapng"),
          },
          "pcapng",
        ),
        h(
          "button",
          { type: "button", "data-testid": "export-jsonl", onclick: () => this.exportAs("jsonl") },
          "JSON lines",
        ),
        h(
          "button",
          { type: "button", class: "remove", onclick: () => this.remove() },
          "Remove tab",
        ),
      ),
      this.log,
      h(
        "div",
        { class: "send" },
        this.input,
        h("div", { class: "send-options" }, this.mode, this.ending, this.history),
        h("button", { type: "button", "data-testid": "send", onclick: () => this.send() }, "Send"),
        this.sendError,
      ),
    );
    this.renderFields();
    this.renderStatus();
  }

  private renderFields(): void {
    const fields = this.protocols[this.protocol.value] ?? {};
    this.fields.replaceChildren(
      ...Object.entries(fields).map(([name, description]) =>
        h(
          "label",
          { title: name },
          `${description} `,
          h("input", { name, "data-testid": `field-${name}`, required: true, autocomplete: "off" }),
        ),
      ),
    );
  }

  /** Hex bytes are sent exactly as typed: no line ending to choose. */
  private renderEnding(): void {
    this.ending.disabled = this.mode.value === "hex";
  }

  /** Connects, or once the session has closed (failed, refused or ended), connects again. */
  private connect(event: Event): void {
    event.preventDefault();
    if (this.session && this.session.state !== "closed") return;
    clearInterval(this.ticker);
    this.log.replaceChildren();
    this.sendError.textContent = "";
    const fields: Record<string, string> = {};
    for (const input of this.fields.querySelectorAll("input")) fields[input.name] = input.value;
    const token = this.token.value;
    const session = new ConsoleSession(
      this.url,
      { protocol: this.protocol.value, fields, ...(token ? { token } : {}) },
      whyRefused,
    );
    this.session = session;
    this.setFormEnabled(false);
    const label = Object.values(fields).join(":");
    this.button.textContent = `${this.protocol.value} ${label}`;
    session.listen({
      entry: (entry) => {
        if (!this.paused) this.appendRow(entry);
        this.renderStatus();
      },
      state: (state) => {
        // The same form, as it was, connects again.
        if (state === "closed") this.setFormEnabled(true);
        this.renderStatus();
      },
    });
    this.ticker = setInterval(() => this.renderStatus(), 1000);
    this.renderStatus();
  }

  private setFormEnabled(enabled: boolean): void {
    for (const element of this.form.elements) (element as HTMLInputElement).disabled = !enabled;
    if (enabled && this.session) this.connectButton.textContent = "Reconnect";
  }

  private renderStatus(): void {
    const session = this.session;
    if (!session) {
      this.stateBadge.textContent = "not connected";
      this.counters.textContent = "";
      return;
    }
    this.stateBadge.textContent = session.state;
    this.stateBadge.dataset.state = session.state;
    const parts: string[] = [];
    if (session.failure) parts.push(`error ${session.failure.error}: ${session.failure.reason}`);
    else if (session.status?.status === "connected")
      parts.push(`connected (${session.request.protocol})`);
    if (session.closeInfo) {
      const { code, reason } = session.closeInfo;
      parts.push(`close code ${code}${reason ? ` "${reason}"` : ""}`);
    }
    this.statusLine.textContent = parts.join(" · ");
    this.statusLine.classList.toggle("failed", session.failure !== undefined);
    const elapsed = (session.endedAt ?? Date.now()) - session.startedAt;
    this.counters.replaceChildren(
      h("span", { "data-testid": "bytes-sent" }, `↑ ${formatSize(session.bytesSent)}`),
      h("span", { "data-testid": "bytes-received" }, `↓ ${formatSize(session.bytesReceived)}`),
      h("span", { "data-testid": "elapsed" }, formatElapsed(elapsed)),
    );
    if (session.state === "closed") clearInterval(this.ticker);
  }

  private appendRow(entry: LogEntry): void {
    this.log.append(this.row(entry));
    while (this.log.childElementCount > MAX_ROWS) this.log.firstElementChild?.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }

  private row(entry: LogEntry): HTMLElement {
    const content =
      entry.bytes === undefined
        ? (entry.text ?? `(${entry.size} bytes, beyond what the console records)`)
        : this.showBytes(entry.bytes);
    return h(
      "div",
      {
        class: `row ${entry.kind}`,
        "data-testid": "log-row",
        "data-kind": entry.kind,
        "data-size": entry.size,
      },
      h("span", { class: "time" }, formatClock(entry.time)),
      h("span", { class: "direction", title: entry.kind }, ARROWS[entry.kind]),
      h(
        "span",
        { class: "size" },
        entry.bytes || entry.kind === "sent" || entry.kind === "received"
          ? formatSize(entry.size)
          : "",
      ),
      h("pre", { class: "content" }, content),
    );
  }

  private showBytes(bytes: Uint8Array): string {
    const shown = bytes.subarray(0, MAX_SHOWN_BYTES);
    const more =
      bytes.byteLength > shown.byteLength
        ? `\n… ${bytes.byteLength - shown.byteLength} more bytes`
        : "";
    return (this.hexView.checked ? hexDump(shown) : showText(shown)) + more;
  }

  private rerender(): void {
    const entries = this.session?.entries.slice(-MAX_ROWS) ?? [];
    this.log.replaceChildren(...entries.map((entry) => this.row(entry)));
    this.log.scrollTop = this.log.scrollHeight;
  }

  private togglePause(): void {
    this.paused = !this.paused;
    this.pauseButton.textContent = this.paused ? "Resume" : "Pause";
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    if (!this.paused) this.rerender();
  }

  private clear(): void {
    this.session?.clear();
    this.log.replaceChildren();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.send();
    }
  }

  private send(): void {
    const session = this.session;
    this.sendError.textContent = "";
    if (!session) {
      this.sendError.textContent = "connect first";
      return;
    }
    const text = this.input.value;
    let bytes: Uint8Array;
    try {
      bytes =
        this.mode.value === "hex"
          ? parseHex(text)
          : textBytes(text, this.ending.value as LineEnding);
    } catch (error) {
      if (!(error instanceof HexInputError)) throw error;
      this.sendError.textContent = `not sent: ${error.message}`;
      return;
    }
    const refused = session.send(bytes);
    if (refused) {
      this.sendError.textContent = `not sent: ${refused}`;
      return;
    }
    this.remember(text);
    this.input.value = "";
  }

  private remember(text: string): void {
    if (text === "" || this.sent[0] === text) return;
    this.sent = [text, ...this.sent.filter((item) => item !== text)].slice(0, MAX_HISTORY);
    this.history.replaceChildren(
      h("option", { value: "" }, "history"),
      ...this.sent.map((item, index) =>
        h(
          "option",
          { value: String(index) },
          `${this.mode.value === "hex" ? "hex " : ""}${item.slice(0, 60)}`,
        ),
      ),
    );
  }

  private recall(): void {
    const item = this.sent[Number(this.history.value)];
    if (this.history.value !== "" && item !== undefined) this.input.value = item;
    this.history.value = "";
    this.input.focus();
  }

  private exportAs(kind: "pcapng" | "jsonl"): void {
    const session = this.session;
    if (!session) return;
    const name = `socket2web-session-${this.number}`;
    if (kind === "pcapng")
      download(`${name}.pcapng`, "application/vnd.tcpdump.pcap", exportPcapng(session));
    else download(`${name}.jsonl`, "application/x-ndjson", exportJsonLines(session));
  }

  private remove(): void {
    this.session?.close();
    clearInterval(this.ticker);
    this.onRemove(this);
  }
}
