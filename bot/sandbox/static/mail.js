// The mail catcher: every email the helpdesk sent, and the one chosen.

import { $, el } from "./dom.js";
import { S } from "./state.js";
import { fullDate } from "./time.js";

export function renderMail() {
  const view = $(".mail-view");
  view.hidden = S.view !== "mail";
  if (view.hidden) return;
  const mail = S.data.mail || [];
  if (S.mailId == null && mail.length) S.mailId = mail[mail.length - 1].id;
  const list = $(".mail-list");
  if (!mail.length) {
    list.replaceChildren(el("li", { class: "mail-empty", text: "No mail yet. Answer a ticket " +
      "with its Reply button and the email shows up here." }));
  } else {
    list.replaceChildren(...mail.slice().reverse().map(mailItem));
  }
  const selected = mail.find((m) => m.id === S.mailId);
  const detail = $(".mail-detail");
  if (!selected) {
    detail.replaceChildren();
    return;
  }
  if (detail.dataset.id === String(selected.id)) return;
  detail.dataset.id = String(selected.id);
  detail.replaceChildren(...mailDetail(selected));
}

function mailItem(m) {
  const selected = m.id === S.mailId;
  const date = new Date(m.received_at);
  return el("li", {}, el("button", { type: "button", class: `mail-item${selected ? " selected" : ""}`,
    "data-testid": "mail-item", "data-id": String(m.id), "aria-current": selected ? "true" : null,
    onclick: () => {
      S.mailId = m.id;
      renderMail();
      $(".mail-detail").focus();
    } },
  el("span", { class: "mail-from", text: m.from }),
  el("time", { class: "mail-time", text: isNaN(date) ? "" : new Intl.DateTimeFormat(undefined,
    { hour: "numeric", minute: "2-digit" }).format(date), title: fullDate(date) }),
  el("span", { class: "mail-subject", text: m.subject || "(no subject)" }),
  el("span", { class: "mail-to", text: "To: " + (m.to || []).join(", ") })));
}

function mailDetail(m) {
  const date = new Date(m.received_at);
  const rows = [["From", m.from], ["To", (m.to || []).join(", ")], ["Date", fullDate(date)],
    ["Message-ID", m.message_id], ["In-Reply-To", m.in_reply_to], ["References", m.references]];
  const attachments = m.attachments || [];
  return [
    el("h3", { class: "mail-heading", text: m.subject || "(no subject)" }),
    el("dl", { class: "mail-headers" }, rows.map(([k, v]) => [el("dt", { text: k }),
      el("dd", { text: v || "—" })])),
    attachments.length ? el("ul", { class: "files" }, attachments.map((a) => el("li", { class: "file" },
      el("span", { class: "file-icon", "aria-hidden": "true", text: "📎" }),
      `${a.filename || "attachment"} (${a.content_type || "?"}, ${size(a.size)})`))) : null,
    el("pre", { class: "mail-body", "data-testid": "mail-body", tabindex: "0", text: m.text || "" }),
  ].filter(Boolean);
}

function size(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
