// The console page: entry point of the browser bundle (built with Bun.build, served by --console).
import type { SupportedProtocols } from "../../client/messages.ts";
import { h } from "./dom.ts";
import { fetchGreeting, proxyUrl } from "./greeting.ts";
import { SessionTab } from "./tab.ts";

const url = proxyUrl(window.location);
const tabs: SessionTab[] = [];
const tabBar = h("nav", { class: "tabs", role: "tablist" });
const panels = h("main", {});
const notice = h(
  "p",
  { class: "notice", "data-testid": "notice" },
  `Reading the greeting of ${url} …`,
);
let protocols: SupportedProtocols = {};

function select(tab: SessionTab): void {
  for (const other of tabs) {
    const active = other === tab;
    other.button.setAttribute("aria-selected", String(active));
    other.panel.hidden = !active;
  }
}

function addTab(): SessionTab {
  const tab = new SessionTab(url, protocols, removeTab);
  tabs.push(tab);
  tab.button.addEventListener("click", () => select(tab));
  tabBar.insertBefore(tab.button, newButton);
  panels.append(tab.panel);
  select(tab);
  return tab;
}

function removeTab(tab: SessionTab): void {
  const index = tabs.indexOf(tab);
  if (index === -1) return;
  tabs.splice(index, 1);
  tab.button.remove();
  tab.panel.remove();
  const next = tabs[Math.max(0, index - 1)];
  if (next) select(next);
  else addTab();
}

const newButton = h(
  "button",
  { type: "button", class: "new", "data-testid": "new-session", onclick: () => addTab() },
  "+ New session",
);
tabBar.append(newButton);

document.body.append(
  h("header", {}, h("h1", {}, "Socket2Web console"), h("span", { class: "proxy" }, url)),
  notice,
  tabBar,
  panels,
);

const retry = h(
  "button",
  { type: "button", "data-testid": "retry", hidden: true, onclick: () => readGreeting() },
  "Try again",
);
notice.after(retry);

/** Reads the greeting; the first tab opens once it has come (again, after a failure). */
function readGreeting(): void {
  retry.hidden = true;
  notice.classList.remove("failed");
  notice.textContent = `Reading the greeting of ${url} …`;
  fetchGreeting(url).then(
    (offered) => {
      protocols = offered;
      notice.textContent = `Proxy ${url} offers: ${Object.keys(offered).join(", ") || "no protocol"}.`;
      document.body.dataset.ready = "true";
      if (tabs.length === 0) addTab();
    },
    (error: Error) => {
      notice.textContent = `Cannot read the proxy's greeting: ${error.message}`;
      notice.classList.add("failed");
      document.body.dataset.ready = "failed";
      retry.hidden = false;
    },
  );
}

readGreeting();
