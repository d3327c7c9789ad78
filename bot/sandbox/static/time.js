// Times as this browser's locale and time zone show them.

export function when(ts, options) {
  const date = new Date(Number(ts) * 1000);
  if (isNaN(date)) return "";
  return new Intl.DateTimeFormat(undefined, options || { hour: "numeric", minute: "2-digit" })
    .format(date);
}

export function fullDate(date) {
  return isNaN(date) ? "" : new Intl.DateTimeFormat(undefined,
    { dateStyle: "full", timeStyle: "medium" }).format(date);
}
