// Keeping keyboard focus inside a dialog.

export function focusables(root) {
  return [...root.querySelectorAll("button, input, select, textarea, a[href], [tabindex]")]
    .filter((n) => !n.disabled && n.tabIndex >= 0 && n.offsetParent !== null);
}

export function trapFocus(e) {
  if (e.key !== "Tab") return;
  const items = focusables(e.currentTarget);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}
