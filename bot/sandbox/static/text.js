// Slack's text formats as DOM nodes: plain_text with :emoji:, and mrkdwn (``` blocks, > quotes,
// <links>, mentions, dates, `code`, *bold*, _italic_, ~strike~). Server text stays text.

import { el } from "./dom.js";
import { link } from "./links.js";
import { userName, channelName } from "./state.js";

const EMOJI = {
  "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", smile: "😄", slightly_smiling_face: "🙂",
  grinning: "😀", joy: "😂", wink: "😉", blush: "😊", heart: "❤️", tada: "🎉", fire: "🔥",
  eyes: "👀", pray: "🙏", clap: "👏", wave: "👋", ok_hand: "👌", thinking_face: "🤔",
  white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", no_entry_sign: "🚫",
  no_entry: "⛔", rotating_light: "🚨", red_circle: "🔴", large_green_circle: "🟢",
  large_yellow_circle: "🟡", large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫",
  hourglass_flowing_sand: "⏳", hourglass: "⌛", stopwatch: "⏱️", alarm_clock: "⏰",
  double_vertical_bar: "⏸️", lock: "🔒", unlock: "🔓", incoming_envelope: "📨", envelope: "✉️",
  email: "📧", outbox_tray: "📤", inbox_tray: "📥", speech_balloon: "💬", star: "⭐",
  zzz: "💤", scissors: "✂️", paperclip: "📎", package: "📦", shopping_bags: "🛍️",
  globe_with_meridians: "🌐", computer: "💻", raised_hand: "✋", leftwards_arrow_with_hook: "↩️",
  arrow_up: "⬆️", arrow_down: "⬇️", arrow_right: "➡️", arrow_left: "⬅️", bell: "🔔",
  memo: "📝", pushpin: "📌", mag: "🔍", bulb: "💡", rocket: "🚀", chart_with_upwards_trend: "📈",
  bar_chart: "📊", calendar: "📆", date: "📅", clock1: "🕐", gift: "🎁", moneybag: "💰",
  credit_card: "💳", truck: "🚚", label: "🏷️", bust_in_silhouette: "👤", busts_in_silhouette: "👥",
  robot_face: "🤖", question: "❓", exclamation: "❗", information_source: "ℹ️", sparkles: "✨",
  point_right: "👉", sos: "🆘", ticket: "🎫", telephone_receiver: "📞", link: "🔗",
  hammer_and_wrench: "🛠️", gear: "⚙️", wastebasket: "🗑️", new: "🆕", repeat: "🔁",
};

export function emoji(name) {
  return EMOJI[String(name).replace(/::skin-tone-\d$/, "")];
}

// Slack escapes &, < and > in text; mrkdwn shows them as themselves.
function decode(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Plain text with :emoji: shortcodes turned into emoji, as Slack does for emoji: true.
function withEmoji(text) {
  return String(text == null ? "" : text)
    .replace(/:([a-z0-9_+'-]+(?:::skin-tone-\d)?):/g, (all, name) => emoji(name) || all);
}

export function textOf(object) {
  if (!object) return "";
  if (typeof object === "string") return object;
  const text = object.text == null ? "" : String(object.text);
  return object.type === "mrkdwn" ? decode(withEmoji(text)) : withEmoji(text);
}

// A Block Kit text object as nodes.
export function textNodes(object) {
  if (!object) return [];
  if (object.type === "mrkdwn") return mrkdwn(object.text);
  return [document.createTextNode(withEmoji(object.text))];
}

// Slack's mrkdwn as nodes: ``` blocks, > quotes, then the inline formats of each line.
export function mrkdwn(source) {
  const out = [];
  const parts = String(source == null ? "" : source).split("```");
  const isPre = (i) => i % 2 === 1 && i < parts.length - 1; // an unclosed ``` stays literal
  parts.forEach((part, i) => {
    if (isPre(i)) {
      out.push(el("pre", { class: "mrkdwn-pre", text: decode(part.replace(/^\n/, "")) }));
      return;
    }
    let text = i % 2 === 1 ? "```" + part : part;
    if (i > 0 && isPre(i - 1)) text = text.replace(/^\n/, ""); // the <pre> ended the line
    if (isPre(i + 1)) text = text.replace(/\n$/, "");
    if (text) out.push(...mrkdwnLines(text));
  });
  return out;
}

// Lines of mrkdwn: runs of "> " lines become one quote; other lines end with a <br>.
function mrkdwnLines(text) {
  const out = [];
  let quote = null;
  text.split("\n").forEach((line, i) => {
    const quoted = /^(&gt;|>)\s?/.exec(line);
    if (quoted) {
      if (quote) quote.append(el("br"));
      else out.push((quote = el("blockquote", { class: "mrkdwn-quote" })));
      quote.append(...inline(line.slice(quoted[0].length)));
      return;
    }
    if (i > 0 && !quote) out.push(el("br")); // a quote ends its own line
    quote = null;
    out.push(...inline(line));
  });
  return out;
}

const WORDY = /[\p{L}\p{N}]/u;

// One line of mrkdwn: <links>, `code`, *bold*, _italic_, ~strike~ and :emoji:.
function inline(text) {
  const out = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push(document.createTextNode(decode(plain)));
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "<") {
      const end = text.indexOf(">", i + 1);
      if (end > i + 1) {
        flush();
        out.push(special(text.slice(i + 1, end)));
        i = end + 1;
        continue;
      }
    } else if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push(el("code", { text: decode(text.slice(i + 1, end)) }));
        i = end + 1;
        continue;
      }
    } else if ((c === "*" || c === "_" || c === "~") && !WORDY.test(text[i - 1] || "")) {
      const end = closing(text, i);
      if (end > 0) {
        flush();
        const tag = { "*": "strong", _: "em", "~": "s" }[c];
        out.push(el(tag, {}, ...inline(text.slice(i + 1, end))));
        i = end + 1;
        continue;
      }
    } else if (c === ":") {
      const found = /^:([a-z0-9_+'-]+(?:::skin-tone-\d)?):/.exec(text.slice(i));
      if (found && emoji(found[1])) {
        plain += emoji(found[1]);
        i += found[0].length;
        continue;
      }
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

// Where the marker opened at `start` closes: a marker after non-space, not inside <…> or
// `…`, and not followed by a letter; -1 when none does.
function closing(text, start) {
  const marker = text[start];
  if (!text[start + 1] || /\s/.test(text[start + 1])) return -1;
  for (let j = start + 1; j < text.length; j++) {
    const c = text[j];
    if (c === "<" || c === "`") {
      const end = text.indexOf(c === "<" ? ">" : "`", j + 1);
      if (end > 0) j = end;
    } else if (c === marker && j > start + 1 && !/\s/.test(text[j - 1]) &&
      !WORDY.test(text[j + 1] || "")) {
      return j;
    }
  }
  return -1;
}

// The inside of <…>: a mention, a channel, a special word, a date or a link.
function special(inner) {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? "" : decode(inner.slice(bar + 1));
  if (target[0] === "@") {
    return el("span", { class: "mention", text: "@" + (label || userName(target.slice(1))) });
  }
  if (target[0] === "#") {
    return el("span", { class: "mention", text: "#" + (label || channelName(target.slice(1))) });
  }
  if (target[0] === "!") {
    const [word, ...rest] = target.slice(1).split("^");
    if (word === "date") return el("time", { text: slackDate(rest, label) });
    if (word === "subteam") return el("span", { class: "mention", text: label || "@group" });
    if (["here", "channel", "everyone"].includes(word)) {
      return el("span", { class: "mention broadcast", text: "@" + word });
    }
    return document.createTextNode(label || "<" + decode(inner) + ">");
  }
  return link(decode(target), label || decode(target).replace(/^mailto:/, ""));
}

// <!date^1732471234^{date_short_pretty} at {time}|fallback>, in this browser's time zone.
export function slackDate(parts, fallback) {
  const date = new Date(Number(parts[0]) * 1000);
  if (isNaN(date) || !parts[1]) return fallback;
  const format = (options) => new Intl.DateTimeFormat(undefined, options).format(date);
  const tokens = {
    date_num: () => format({ year: "numeric", month: "2-digit", day: "2-digit" }),
    date: () => format({ dateStyle: "long" }),
    date_short: () => format({ dateStyle: "medium" }),
    date_long: () => format({ dateStyle: "full" }),
    date_pretty: () => format({ dateStyle: "long" }),
    date_short_pretty: () => format({ dateStyle: "medium" }),
    date_long_pretty: () => format({ dateStyle: "full" }),
    time: () => format({ hour: "numeric", minute: "2-digit" }),
    time_secs: () => format({ timeStyle: "medium" }),
  };
  return parts[1].replace(/\{(\w+)\}/g, (all, token) => (tokens[token] ? tokens[token]() : all));
}
