// Block Kit blocks. A "ctx" says where the blocks live (a message, an ephemeral message, the
// modal or the Home tab) and so where a click goes.

import { nextId, el, unsupported } from "./dom.js";
import { element_ } from "./elements.js";
import { safeUrl } from "./links.js";
import { richText } from "./rich_text.js";
import { textOf, textNodes } from "./text.js";

// ctx: {surface: "message" | "ephemeral" | "modal", channel, ts, ephemeral, view_id,
//       readers: Map of modal values, presets, errors}
export function renderBlocks(blocks, ctx) {
  return (blocks || []).map((block, index) => {
    try {
      return renderBlock(block, ctx, block.block_id || `blk-${index}`);
    } catch (e) {
      console.warn("sandbox: could not draw a block", block, e);
      return unsupported(block && block.type);
    }
  });
}

function renderBlock(block, ctx, blockId) {
  switch (block.type) {
    case "section":
      return sectionBlock(block, ctx, blockId);
    case "context":
      return el("div", { class: "bk-context" }, (block.elements || []).map((item) =>
        item.type === "image" ? image(item.image_url, item.alt_text, "bk-context-image")
          : el("span", {}, textNodes(item))));
    case "divider":
      return el("hr", { class: "bk-divider" });
    case "header":
      return el("h3", { class: "bk-header", text: textOf(block.text) });
    case "actions":
      return el("div", { class: "bk-actions", "data-block-id": blockId },
        (block.elements || []).map((element) => element_(element, blockId, ctx, true)));
    case "image":
      return el("figure", { class: "bk-image" },
        block.title && el("figcaption", { text: textOf(block.title) }),
        image(block.image_url || (block.slack_file && block.slack_file.url), block.alt_text));
    case "rich_text":
      return richText(block);
    case "input":
      return inputBlock(block, ctx, blockId);
    case "file":
      return el("div", { class: "bk-file", text: `📎 ${block.external_id || "a file"}` });
    default:
      return unsupported(block.type);
  }
}

function sectionBlock(block, ctx, blockId) {
  const body = el("div", { class: "bk-section-body" });
  if (block.text) body.append(el("div", { class: "bk-text" }, textNodes(block.text)));
  if (block.fields && block.fields.length) {
    body.append(el("div", { class: "bk-fields" },
      block.fields.map((field) => el("div", { class: "bk-field" }, textNodes(field)))));
  }
  const node = el("div", { class: "bk-section", "data-block-id": blockId }, body);
  if (block.accessory) {
    const accessory = block.accessory.type === "image"
      ? image(block.accessory.image_url, block.accessory.alt_text, "bk-accessory-image")
      : element_(block.accessory, blockId, ctx, true);
    node.append(el("div", { class: "bk-accessory" }, accessory));
  }
  return node;
}

function image(url, alt, className) {
  const src = safeUrl(url, true);
  if (!src || src.startsWith("mailto:")) {
    return el("span", { class: "bk-image-missing", text: `[image: ${alt || "no address"}]` });
  }
  return el("img", { src, alt: alt || "", class: className || "bk-img", loading: "lazy",
    referrerpolicy: "no-referrer" });
}

// An input block: label, element, hint, "(optional)", and the error Slack shows under it.
function inputBlock(block, ctx, blockId) {
  const element = block.element || {};
  const labelId = nextId("label");
  const errorId = nextId("error");
  const inputId = nextId("input");
  const error = ctx.errors && ctx.errors[blockId];
  const built = element_(element, blockId, ctx, Boolean(block.dispatch_action), {
    inputId, labelId, errorId: error ? errorId : null, input: true,
  });
  const label = el("label", { class: "bk-label", id: labelId, for: groupType(element) ? null : inputId },
    textOf(block.label),
    block.optional && el("span", { class: "optional", text: " (optional)" }));
  return el("div", { class: "bk-input", "data-block-id": blockId, "data-testid": "input-block" },
    label, built,
    block.hint && el("p", { class: "bk-hint", text: textOf(block.hint) }),
    el("p", { class: "bk-error", id: errorId, text: error || "", hidden: !error }));
}

function groupType(element) {
  return ["checkboxes", "radio_buttons", "file_input"].includes(element.type) ||
    element.type.startsWith("multi_");
}
