// Small behaviours htmx does not cover. No inline scripts (CSP: script-src 'self').
document.addEventListener("click", (event) => {
  const close = event.target.closest(".toast-close");
  if (close) close.parentElement.remove();
  const copy = event.target.closest("[data-copy-target]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copyTarget);
    if (source && navigator.clipboard) navigator.clipboard.writeText(source.innerText.trim());
  }
});
// Toasts fade away after a while.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target && event.detail.target.id === "toasts") {
    const toast = event.detail.target.lastElementChild;
    if (toast) setTimeout(() => toast.remove(), 8000);
  }
});
// A network failure (gateway unreachable) still tells the user something.
document.addEventListener("htmx:sendError", () => {
  const toasts = document.getElementById("toasts");
  if (!toasts) return;
  const div = document.createElement("div");
  div.className = "toast toast-error";
  div.setAttribute("role", "alert");
  // words from the page's language (data-t-* on <body>, issue 14), English if missing
  div.textContent = document.body.dataset.tOffline || "The server cannot be reached. Check your connection and try again.";
  toasts.appendChild(div);
  setTimeout(() => div.remove(), 8000);
});

// Address forms: "Copy postal address here" copies the fields of one address into another, in the form.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-address-from]");
  if (!button) return;
  const form = button.closest("form");
  const from = button.dataset.copyAddressFrom;
  const to = button.dataset.copyAddressTo;
  for (const field of ["street", "postcode", "city", "region", "country"]) {
    const source = form.elements.namedItem(`addresses.${from}.${field}`);
    const target = form.elements.namedItem(`addresses.${to}.${field}`);
    if (source && target) target.value = source.value;
  }
});

// A checkbox with data-reveals="<id>" shows that element while ticked (start project, follow-up task).
document.addEventListener("change", (event) => {
  const box = event.target.closest("input[data-reveals]");
  if (!box) return;
  const target = document.getElementById(box.dataset.reveals);
  if (target) target.hidden = !box.checked;
});

// Copy-to-clipboard buttons say that they worked.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy-target]");
  if (!copy || !navigator.clipboard) return;
  const label = copy.textContent;
  copy.textContent = document.body.dataset.tCopied || "Copied ✓";
  setTimeout(() => { copy.textContent = label; }, 1500);
});


// The overview's URL is its state: leave empty values ("Any", "any rating") out of GET requests,
// so pushed URLs stay short and canonical (?q=acme, not ?q=acme&flag.3=&stars.4=).
document.addEventListener("htmx:configRequest", (event) => {
  const detail = event.detail;
  if (detail.verb !== "get" || !detail.elt.closest("[data-drop-empty]")) return;
  const data = detail.formData;
  for (const key of Array.from(new Set(data.keys()))) {
    const kept = data.getAll(key).filter((value) => value !== "");
    data.delete(key);
    for (const value of kept) data.append(key, value);
  }
});

// ---- The registry search (a combobox): "+ New company" opens it in a dialog on the overview;
// on the new-company page it sits above the form. Arrow keys move the highlight
// (aria-activedescendant) over the listbox's options, Enter picks, Escape closes the list
// (and then the dialog). The search itself is htmx (hx-get, delay, hx-sync replace).
function comboOptions(input) {
  const list = document.getElementById(input.getAttribute("aria-controls"));
  return list && !list.hidden ? Array.from(list.querySelectorAll('[role="option"]')) : [];
}

function comboHighlight(input, options, index) {
  options.forEach((option, i) => {
    option.setAttribute("aria-selected", i === index ? "true" : "false");
    option.classList.toggle("active", i === index);
  });
  if (index < 0 || !options[index]) {
    input.removeAttribute("aria-activedescendant");
    return;
  }
  input.setAttribute("aria-activedescendant", options[index].id);
  options[index].scrollIntoView({ block: "nearest" });
}

function comboPick(option) {
  const link = option && option.querySelector("a[href]");
  if (link) link.click();
}

function comboClose(input) {
  const results = document.getElementById("registry-results");
  const shown = results && results.textContent.trim() !== "";
  if (results) {
    const list = results.querySelector('[role="listbox"]');
    if (list) { list.replaceChildren(); list.hidden = true; }
    for (const el of results.querySelectorAll(":scope > :not([role=listbox])")) el.remove();
  }
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  return shown;
}

document.addEventListener("keydown", (event) => {
  const input = event.target.closest && event.target.closest('input[role="combobox"]');
  if (!input) return;
  const options = comboOptions(input);
  const current = options.findIndex((o) => o.id === input.getAttribute("aria-activedescendant"));
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!options.length) return;
    event.preventDefault();
    let next = event.key === "ArrowDown" ? current + 1 : current - 1;
    if (next >= options.length) next = 0;
    if (next < 0) next = options.length - 1;
    comboHighlight(input, options, next);
  } else if (event.key === "Enter") {
    event.preventDefault(); // never submit the search form: the list is live
    if (current >= 0) comboPick(options[current]);
    else input.dispatchEvent(new Event("search")); // search now, without the delay
  } else if (event.key === "Escape") {
    if (comboClose(input)) event.preventDefault(); // first Escape closes the list, the next the dialog
  }
});

// A click anywhere on an option picks it (its link does the work: htmx or a plain link).
document.addEventListener("click", (event) => {
  const option = event.target.closest('[role="option"]');
  if (!option || event.target.closest("a")) return;
  comboPick(option);
});

// New suggestions: nothing highlighted, aria-expanded says whether there is a list.
document.addEventListener("htmx:afterSettle", (event) => {
  const input = document.querySelector('input[role="combobox"]');
  if (input && document.getElementById("registry-results")) {
    const options = comboOptions(input);
    const active = input.getAttribute("aria-activedescendant");
    if (!active || !document.getElementById(active)) input.removeAttribute("aria-activedescendant");
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
  }
  const elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
  if (elt && elt.matches && elt.matches("[data-focus-name]")) {
    const name = document.getElementById("new-name");
    if (name) name.focus();
  }
});

// "+ New company" opens its dialog (a plain link to the new-company page without JavaScript).
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && dialog.showModal) {
      event.preventDefault();
      dialog.showModal();
      const input = dialog.querySelector('input[role="combobox"]');
      if (input) input.focus();
    }
    return;
  }
  const closer = event.target.closest("[data-close-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
  }
});

// Sub-units: select all / none.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-check-all], [data-check-none]");
  if (!button) return;
  const name = button.dataset.checkAll || button.dataset.checkNone;
  const scope = button.closest("form") || document;
  for (const box of scope.querySelectorAll(`input[type=checkbox][name="${name}"]`)) {
    box.checked = "checkAll" in button.dataset;
  }
});

// "/" focuses the overview's search box (issue 13), unless the user is typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog[open]")) return;
  const search = document.getElementById("search-q");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});

// Long facet lists (city, region, industry, tags) have a filter box (issue 13). It only hides
// options here: it has no name and its change never reaches the filter form (no request).
const facetFilters = {};
function applyFacetFilter(input) {
  const key = input.dataset.facetFilter;
  const list = document.querySelector(`[data-facet-list="${key}"]`);
  if (!list) return;
  const words = input.value.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const item of list.children) {
    const label = (item.querySelector(".facet-label")?.textContent || "").toLocaleLowerCase();
    const ticked = item.querySelector("input:checked");
    const match = ticked || words.every((w) => label.includes(w));
    item.hidden = !match;
    if (match) shown += 1;
  }
  const none = document.querySelector(`[data-facet-none="${key}"]`);
  if (none) none.hidden = shown > 0;
  facetFilters[key] = input.value;
}
document.addEventListener("input", (event) => {
  if (event.target.matches?.("[data-facet-filter]")) applyFacetFilter(event.target);
});
document.addEventListener("change", (event) => {
  if (event.target.matches?.("[data-facet-filter]")) event.stopPropagation();
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches?.("[data-facet-filter]")) event.preventDefault();
}, true);
document.addEventListener("htmx:afterSettle", () => {  // the panel is re-rendered: keep what was typed
  for (const input of document.querySelectorAll("[data-facet-filter]")) {
    const typed = facetFilters[input.dataset.facetFilter];
    if (typed && !input.value) {
      input.value = typed;
      applyFacetFilter(input);
    }
  }
});
