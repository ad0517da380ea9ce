// Helpers for the charter steps' live parts: named slots, typing kept across rebuilds,
// focus by data-focus key, and announcements to screen readers.
import { fill, h, keyed } from "./dom.js";

/**
 * Return the named child slots of `el`, building the skeleton again when `layout` changes.
 *
 * A new skeleton starts every slot empty (and without a key), so each is rebuilt.
 */
export function slots(el, layout, names) {
  if (el.dataset.layout !== layout) {
    el.dataset.layout = layout;
    delete el.dataset.key;
    fill(el, names.map((name) => h("div", { class: `slot slot-${name}`, "data-slot": name })));
  }
  const found = {};
  for (const child of el.children) found[child.dataset.slot] = child;
  return found;
}

/** Empty a part for good (until something is built in it again). */
export function clear(el) {
  keyed(el, "", () => null);
  delete el.dataset.layout;
}

/**
 * Like `keyed`, but what the user was typing (or had picked) in a field of the old
 * content is put back into the field with the same data-focus key: a live update
 * by someone else must never eat a half-written text.
 */
export function keyedKeeping(el, key, build) {
  if (el.dataset.key === key) return false;
  const typed = typedIn(el);
  keyed(el, key, build);
  putBack(el, typed);
  return true;
}

/**
 * Keep the children of `list` in step with `items` ({id, key, build}), in that order:
 * an item is rebuilt only when its key changed, so a live change to one item leaves the
 * others (and a click or typing in them) alone.
 */
export function keyedList(list, items) {
  const old = new Map([...list.children].map((el) => [el.dataset.itemId, el]));
  let previous = null;
  for (const { id, key, build } of items) {
    let el = old.get(id);
    old.delete(id);
    if (!el || el.dataset.itemKey !== key) {
      const fresh = build();
      fresh.dataset.itemId = id;
      fresh.dataset.itemKey = key;
      if (el) {
        const typed = typedIn(el);
        el.replaceWith(fresh);
        putBack(fresh, typed);
      }
      el = fresh;
    }
    const wanted = previous ? previous.nextElementSibling : list.firstElementChild;
    if (el !== wanted) list.insertBefore(el, wanted);
    previous = el;
  }
  for (const el of old.values()) el.remove();
}

/** The values typed or picked in the fields of `el` (by data-focus key), to put back. */
function typedIn(el) {
  const typed = [];
  for (const field of el.querySelectorAll("input[data-focus], textarea[data-focus], select[data-focus]")) {
    if (field.type === "radio" || field.type === "checkbox") continue;
    const dirty = field.tagName === "SELECT"
      ? field.selectedIndex >= 0 && !field.options[field.selectedIndex].defaultSelected
      : field.value !== field.defaultValue;
    if (dirty) typed.push([field.dataset.focus, field.value]);
  }
  return typed;
}

function putBack(el, typed) {
  for (const [focus, value] of typed) {
    const field = el.querySelector(`[data-focus="${CSS.escape(focus)}"]`);
    if (!field) continue;
    if (field.tagName !== "SELECT" || [...field.options].some((o) => o.value === value)) {
      field.value = value;
    }
  }
}

/** A text field (input or textarea) whose starting value counts as "not typed". */
export function textField(tag, attrs, value = "") {
  const field = h(tag, attrs);
  field.defaultValue = value ?? "";
  field.value = value ?? "";
  return field;
}

/** Focus the visible, enabled element with this data-focus key; return whether it worked. */
export function focusKey(key) {
  const el = document.querySelector(`#room [data-focus="${CSS.escape(key)}"]`);
  if (!el || el.disabled || !el.getClientRects().length) return false;
  el.focus();
  // In a text field, the caret goes to the end of what is there, ready to go on typing.
  if (el.matches("textarea, input[type=text]")) el.setSelectionRange(el.value.length, el.value.length);
  return document.activeElement === el;
}

/** Say something to screen readers through the room's live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region || !text) return;
  const line = h("p", { text });
  region.append(line);
  setTimeout(() => line.remove(), 8000);
}

/** The facilitator's own controls, marked as seen by them only. */
export function facilitatorBox(T, ...children) {
  return h("div", { class: "facilitator-only" },
    h("p", { class: "facilitator-label", text: T.only_you_see }), ...children);
}

/** Show a ISO date (YYYY-MM-DD) in the page's language, or the string itself. */
export function showDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.split("-").map(Number);
  if (!y || !m || !d) return iso;
  try {
    return new Date(y, m - 1, d).toLocaleDateString(document.documentElement.lang || undefined,
      { year: "numeric", month: "long", day: "numeric" });
  } catch {
    return iso;
  }
}

/** Show a number (an average) in the page's language, with at most two decimals. */
export function showNumber(value) {
  try {
    return new Intl.NumberFormat(document.documentElement.lang || undefined,
      { maximumFractionDigits: 2 }).format(value);
  } catch {
    return String(value);
  }
}

/** Cut a text for a label, on a word boundary where possible. */
export function short(text, limit = 48) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  if (flat.length <= limit) return flat;
  const cut = flat.slice(0, limit);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The agreements' texts by id, as the agreements step last showed them (for the draft panel). */
export const agreementTexts = new Map();

/**
 * Send a command from a button or form at most once at a time: the button stays disabled
 * until the server answers, so a double click or a second Enter makes one proposal or deed.
 */
export async function sendOnce(ctx, button, event, payload) {
  if (!button || button.disabled) return { ok: false };
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await ctx.send(event, payload);
  } finally {
    // The answer may have rebuilt the form; then this button is gone and that is fine.
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
