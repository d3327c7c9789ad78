// Block Kit's rich_text block: sections, lists, quotes and preformatted text. Its text is raw.

import { el, unsupported } from "./dom.js";
import { link } from "./links.js";
import { userName, channelName } from "./state.js";
import { emoji, slackDate } from "./text.js";

// A rich_text block: sections, lists, quotes and preformatted text. Its text is raw.
export function richText(block) {
  const root = el("div", { class: "rich-text" });
  for (const part of block.elements || []) root.append(richPart(part));
  return root;
}

function richPart(part) {
  const kids = () => (part.elements || []).map(richInline);
  switch (part.type) {
    case "rich_text_section":
      return el("div", { class: "rt-section" }, kids());
    case "rich_text_quote":
      return el("blockquote", { class: "mrkdwn-quote" }, kids());
    case "rich_text_preformatted":
      return el("pre", { class: "mrkdwn-pre" }, kids());
    case "rich_text_list": {
      const list = el(part.style === "ordered" ? "ol" : "ul", { class: "rt-list" },
        (part.elements || []).map((item) => el("li", {}, richPart(item))));
      list.style.marginLeft = `${(Number(part.indent) || 0) * 20}px`;
      if (part.offset) list.setAttribute("start", String(Number(part.offset) + 1));
      return list;
    }
    default:
      return unsupported(part.type);
  }
}

function richInline(item) {
  let node;
  switch (item.type) {
    case "text":
      node = document.createTextNode(item.text || "");
      break;
    case "link":
      node = link(item.url, item.text || item.url);
      break;
    case "user":
      node = el("span", { class: "mention", text: "@" + userName(item.user_id) });
      break;
    case "usergroup":
      node = el("span", { class: "mention", text: "@group" });
      break;
    case "channel":
      node = el("span", { class: "mention", text: "#" + channelName(item.channel_id) });
      break;
    case "broadcast":
      node = el("span", { class: "mention broadcast", text: "@" + (item.range || "here") });
      break;
    case "emoji":
      node = document.createTextNode(item.unicode
        ? String.fromCodePoint(...item.unicode.split("-").map((h) => parseInt(h, 16)))
        : emoji(item.name) || `:${item.name}:`);
      break;
    case "date":
      node = el("time", { text: slackDate([item.timestamp, item.format], item.fallback || "") });
      break;
    case "color":
      node = el("code", { text: item.value || "" });
      break;
    default:
      return unsupported(item.type);
  }
  const style = item.style || {};
  for (const [key, tag] of [["code", "code"], ["strike", "s"], ["italic", "em"], ["bold", "strong"]]) {
    if (style[key]) node = el(tag, {}, node);
  }
  return node;
}
