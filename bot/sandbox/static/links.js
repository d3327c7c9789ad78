// Links and images point only at http(s) and mailto addresses; anything else stays text.

import { el } from "./dom.js";

// The address if it is http(s) or mailto, else null. Links written in messages must be
// absolute, as in Slack; the server's own file addresses may be relative to this page.
export function safeUrl(url, relative) {
  try {
    const parsed = relative ? new URL(String(url), location.href) : new URL(String(url));
    return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

// A Slack permalink to a message of this workspace opens its thread here, as in Slack; how is
// the layout's business (navigation.js), given at start-up so that text needs no layout.
let showPermalink = () => false;

export function openPermalinksWith(open) {
  showPermalink = open;
}

export function link(url, label, relative) {
  const href = safeUrl(url, relative);
  if (!href) return el("span", { text: label || url });
  return el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label || url,
    onclick: (e) => {
      if (showPermalink(href)) e.preventDefault();
    } });
}

export function openUrl(url) {
  const href = safeUrl(url);
  if (href && !showPermalink(href)) window.open(href, "_blank", "noopener,noreferrer");
}
