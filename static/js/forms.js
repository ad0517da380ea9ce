// Progressive enhancement of the server-rendered forms: copy buttons and the agenda builder.
import { h, wireCopyButtons } from "./dom.js";

wireCopyButtons();

const builder = document.querySelector(".agenda-builder");
if (builder) {
  const rows = [...builder.querySelectorAll(".agenda-row")];

  const sync = (row) => {
    const kind = row.querySelector(".step-kind").value;
    const prompt = row.querySelector(".prompt-select");
    row.dataset.kind = kind;
    row.querySelector(".checkin-only").hidden = kind !== "checkin";
    const format = row.querySelector(".format-select");
    const show = (selector, visible) => row.querySelectorAll(selector).forEach((el) => {
      el.hidden = !visible;
    });
    show(".charter-only", ["purpose", "agreements", "retro"].includes(kind));
    show(".drafting-only", kind === "purpose" || kind === "agreements");
    show(".purpose-only", kind === "purpose" || kind === "retro");
    show(".retro-only", kind === "retro");
    show(".check-only", kind === "agreements_check");
    show(".review-only", kind === "deeds_review");
    show(".custom-columns", kind === "retro" && format && format.value === "custom");
    row.querySelector(".custom-prompt").hidden = !prompt || prompt.value !== "custom";
  };

  const addButton = h("button", { type: "button", class: "button ghost add-step" },
    builder.dataset.addLabel || "+");
  const refresh = () => {
    // Show every chosen row plus the rows in between; hide trailing unused rows.
    let last = 0;
    rows.forEach((row, i) => { if (row.querySelector(".step-kind").value) last = i; });
    rows.forEach((row, i) => { if (i > last && !row.dataset.revealed) row.hidden = true; });
    addButton.hidden = rows.every((row) => !row.hidden);
  };

  rows.forEach((row) => {
    row.querySelector(".step-kind").addEventListener("change", () => sync(row));
    row.querySelector(".prompt-select")?.addEventListener("change", () => sync(row));
    row.querySelector(".format-select")?.addEventListener("change", () => sync(row));
    sync(row);
  });
  addButton.addEventListener("click", () => {
    const next = rows.find((row) => row.hidden);
    if (!next) return;
    next.hidden = false;
    next.dataset.revealed = "1";
    const select = next.querySelector(".step-kind");
    if (!select.value) select.value = "checkin";
    sync(next);
    select.focus();
    refresh();
  });
  builder.querySelector(".agenda-rows").after(addButton);
  refresh();

  // A ready-made agenda replaces the rows: show its steps instead of them.
  const preset = builder.querySelector(".preset-select");
  const showPreset = () => {
    const chosen = preset ? preset.value : "";
    builder.querySelectorAll(".preset-steps").forEach((p) => {
      p.hidden = p.dataset.preset !== chosen;
    });
    builder.querySelector(".own-agenda").hidden = Boolean(chosen);
  };
  preset?.addEventListener("change", showPreset);
  showPreset();
}

// The charter's edit form: of its blank rows for new agreements and anchors, one shows, and
// "add another" shows the next; rows with text (typed, or sent back with an error) stay.
document.querySelectorAll(".edit-rows[data-add-label]").forEach((list) => {
  const blank = (row) => [...row.querySelectorAll("input[type=text], textarea")]
    .every((field) => !field.value.trim());
  const spare = [...list.querySelectorAll(":scope > li.new-row")].filter(blank);
  spare.slice(1).forEach((row) => { row.hidden = true; });
  const add = h("button", { type: "button", class: "button ghost add-row" }, list.dataset.addLabel);
  const refresh = () => { add.hidden = spare.every((row) => !row.hidden); };
  add.addEventListener("click", () => {
    const next = spare.find((row) => row.hidden);
    if (!next) return;
    next.hidden = false;
    next.querySelector("input[type=text], textarea")?.focus();
    refresh();
  });
  list.after(add);
  refresh();
});
