// Building DOM. Text only ever goes in as textContent, never as HTML.

export const $ = (selector, root) => (root || document).querySelector(selector);
let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// Builds elements. Text only ever goes in as textContent, never as HTML.
export function el(tag, props, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === false || v == null) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k === "value" || k === "checked") node[k] = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid != null && kid !== false) node.append(kid);
  }
  return node;
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function unsupported(type) {
  return el("div", { class: "unsupported", text: `[unsupported block: ${type || "?"}]` });
}
