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

// ---- The registry search (a combobox, WAI-ARIA combobox + listbox pattern, issue 15): "+ New
// company" opens it in a dialog on the overview; on the new-company page it sits above the form.
// The input keeps focus: arrow keys move the highlight (aria-activedescendant) over the listbox's
// options, Enter picks, Escape closes one level (first the list, the next one the dialog). Options
// hold no links: an option has its URL in data-href, or htmx attributes triggered by a "pick" event
// (on the new-company page a pick fills the form in place). The search itself is htmx.
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
  if (!option) return;
  if (option.hasAttribute("hx-get") && window.htmx) htmx.trigger(option, "pick");
  else if (option.dataset.href) window.location.assign(option.dataset.href);
}

function comboClose(input) {
  const results = document.getElementById("registry-results");
  const shown = !!results && results.textContent.trim() !== "";
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
  } else if ((event.key === "Home" || event.key === "End") && current >= 0) {
    event.preventDefault();
    comboHighlight(input, options, event.key === "Home" ? 0 : options.length - 1);
  } else if (event.key === "Enter") {
    event.preventDefault(); // never submit the search form: the list is live
    if (current >= 0) comboPick(options[current]);
    else input.dispatchEvent(new Event("search")); // search now, without the delay
  } else if (event.key === "Escape") {
    // One level per Escape: an open list (or its messages) first, then the dialog. A pending search
    // must not bring the list back, and Chromium's own Escape (clear a search field) is not wanted.
    if (comboClose(input)) {
      event.preventDefault();
      event.stopPropagation();
      if (window.htmx) htmx.trigger(input, "htmx:abort");
    } else if (input.closest("dialog[open]")) {
      event.preventDefault(); // Chromium would spend this Escape clearing the field: close the dialog
      input.closest("dialog[open]").close();
    } else if (input.value) {
      event.preventDefault(); // on the page: Escape with nothing open leaves the typed words alone
    }
  }
});

// A click anywhere on an option picks it.
document.addEventListener("click", (event) => {
  const option = event.target.closest('[role="option"]');
  if (option && option.closest('[role="listbox"]#registry-listbox')) comboPick(option);
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
  const typing = 'input:not([type="checkbox"]):not([type="radio"]):not([type="button"]):not([type="submit"]), textarea, select, [contenteditable], dialog[open]';
  if (target.closest && target.closest(typing)) return; // a checkbox or a button is not typing
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

// ---- Focus and announcements (issue 15; the rule is in the README's design section) ----------
// Every swap says where focus goes, with attributes on the fragment it swaps in:
//   1. a field with aria-invalid="true" (a form back with errors): the first one;
//   2. [data-focus]: that element, or with data-focus="first-field" its first field (a form opens);
//   3. the control that had focus, if the new content has it again (same id, same name and value,
//      same kind and words);
//   4. [data-focus-return]: where focus goes back when a form closes (the box's Edit button);
//   5. else the first control in the new content, else the content itself.
// Only when focus was inside the part being replaced (or a user's action there started the request
// and focus is lost): a background refresh (a poll, the filter panel's counts) never moves focus.
// A swapped fragment with data-announce (on itself or inside) is read out through #announcer,
// the page's one polite live region (base.html): "Saved", "12 companies", "3 suggestions found.".
// Escape in a form with a [data-cancel] control presses it (closes a box's edit form).
const FIELD = 'input:not([type="hidden"]):not([disabled]), select:not([disabled]), textarea:not([disabled])';
const CONTROL = `${FIELD}, button:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])`;

function shown(el) {
  return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && !el.closest("[hidden]");
}
function firstOf(scope, selector) {
  if (scope.matches && scope.matches(selector) && shown(scope)) return scope;
  return Array.from(scope.querySelectorAll(selector)).find(shown) || null;
}
function focusOn(el) {
  if (!el) return false;
  if (!el.matches(CONTROL) && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "nearest", inline: "nearest" });
  return document.activeElement === el;
}

function announce(text) {
  const region = document.getElementById("announcer");
  text = (text || "").replace(/\s+/g, " ").trim();
  if (!region || !text) return;
  region.textContent = ""; // cleared first, set a tick later: the same words twice are read twice
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { region.textContent = text; }, 120);
}
window.announce = announce;

// What identifies a control across a re-render (its node is new).
const wordsOf = (el) => (el.textContent || "").replace(/[^\p{L}\p{N}]+/gu, " ").trim().slice(0, 80);
function describeControl(el) {
  if (!el || el === document.body || !el.tagName) return null;
  const details = el.closest("details[data-key]");
  return {
    id: el.id || "", name: el.getAttribute("name") || "", value: el.value !== undefined ? String(el.value) : "",
    type: el.type || "", tag: el.tagName, words: wordsOf(el),
    summary: el.tagName === "SUMMARY", details: details ? details.dataset.key : "",
  };
}
function findControl(scope, d) {
  if (!d) return null;
  const esc = (v) => (window.CSS && CSS.escape ? CSS.escape(v) : v);
  if (d.summary && d.details) return scope.querySelector(`details[data-key="${esc(d.details)}"] > summary`);
  if (d.name && (d.type === "checkbox" || d.type === "radio")) {
    const same = scope.querySelector(`[name="${esc(d.name)}"][value="${esc(d.value)}"]`);
    if (same) return same;
  } else if (d.name) {
    const same = scope.querySelector(`[name="${esc(d.name)}"]`);
    if (same) return same;
  }
  if (d.id) {
    const same = scope.querySelector(`#${esc(d.id)}`) || (scope.id === d.id ? scope : null);
    if (same) return same;
  }
  if (d.words && (d.tag === "BUTTON" || d.tag === "A")) {
    const same = Array.from(scope.querySelectorAll(d.tag)).find((el) => wordsOf(el) === d.words);
    if (same) return same;
  }
  if (d.details) return scope.querySelector(`details[data-key="${esc(d.details)}"] > summary`);
  return null;
}

const swapStarts = []; // where focus was when each pending swap began (several can overlap)
function noteSwap(target, requester) {
  const active = document.activeElement;
  const inside = (el) => !!(target && el && el !== document.body && (target === el || target.contains(el)));
  const start = { target, id: target && target.id, inside: inside(active), requester: inside(requester),
                  control: inside(active) ? describeControl(active) : null };
  const i = swapStarts.findIndex((s) => s.target === target);
  if (i >= 0) swapStarts.splice(i, 1);
  swapStarts.push(start);
  if (swapStarts.length > 20) swapStarts.shift();
}
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.shouldSwap === false) return;
  const config = event.detail.requestConfig || {};
  const byUser = config.triggeringEvent && config.triggeringEvent.isTrusted; // not a poll, load or event
  noteSwap(event.detail.target, byUser ? config.elt : null);
  snapshotPreserved();
});

function placeFocus(scope) {
  if (!scope || !scope.isConnected) return;
  // outerHTML: the new element stands for the target; innerHTML and the like: each new child is in it
  const i = swapStarts.findIndex((s) => scope === s.target || (s.id && scope.id === s.id) ||
                                        (s.target && s.target.isConnected && s.target.contains(scope)));
  if (i < 0) return;
  const start = swapStarts.splice(i, 1)[0];
  if (start.target && start.target.isConnected && start.target !== scope) scope = start.target;
  const lost = !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
  if (!start.inside && !(start.requester && lost)) return;
  const invalid = firstOf(scope, '[aria-invalid="true"]');
  if (invalid && focusOn(invalid)) return;
  const marked = firstOf(scope, "[data-focus]");
  if (marked) {
    const el = marked.dataset.focus === "first-field" ? (firstOf(marked, FIELD) || firstOf(marked, CONTROL)) : marked;
    if (focusOn(el)) return;
  }
  const again = findControl(scope, start.control);
  if (again && shown(again) && (again === document.activeElement || focusOn(again))) return;
  if (focusOn(firstOf(scope, "[data-focus-return]"))) return;
  if (!lost) return;
  focusOn(firstOf(scope, CONTROL) || scope);
}

// A page that opens on a form to check (the new-company form filled in from a registry pick):
// focus its first field, unless something else asked for focus (autofocus).
document.addEventListener("DOMContentLoaded", () => {
  if (document.activeElement && document.activeElement !== document.body) return;
  const form = document.querySelector("[data-focus-on-load]");
  if (form) focusOn(firstOf(form, FIELD));
});

function announceFrom(scope) {
  if (!scope || !scope.querySelectorAll) return;
  const parts = [];
  if (scope.dataset && scope.dataset.announce) parts.push(scope.dataset.announce);
  for (const el of scope.querySelectorAll("[data-announce]")) parts.push(el.dataset.announce);
  if (parts.length) announce(parts.join(" "));
}

// Focus moves on afterSettle, once htmx has wired up the new content (its buttons work). If the
// user moved focus between the swap and the settle (20 ms), their choice stands.
const focusAtSwap = new WeakMap();
document.addEventListener("htmx:afterSwap", (event) => { focusAtSwap.set(event.target, document.activeElement); });
document.addEventListener("htmx:afterSettle", (event) => {
  const scope = event.target;
  if (!scope.closest || scope.closest("#toasts")) return; // a toast is read when it is added (below)
  announceFrom(scope);
  restorePreserved();
  if (focusAtSwap.has(scope) && focusAtSwap.get(scope) !== document.activeElement) {
    const i = swapStarts.findIndex((s) => scope === s.target || (s.id && scope.id === s.id));
    if (i >= 0) swapStarts.splice(i, 1);
    return;
  }
  placeFocus(scope);
});

// Toasts (#toasts is not a live region itself): an added toast with data-announce is read out
// through #announcer, an error toast speaks for itself (role="alert").
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType === 1 && !node.matches('[role="alert"]')) announceFrom(node);
    }
  }
}).observe(document.getElementById("toasts") || document.createElement("div"), { childList: true });

// Escape cancels an in-place form (its [data-cancel] control), unless something inside used it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const target = event.target;
  if (!target.closest || target.closest('[role="combobox"], dialog')) return;
  if (target.matches('input[type="search"]') && target.value) return; // Escape clears the search first
  const form = target.closest("form");
  const cancel = form && (form.querySelector("[data-cancel]") ||
    (form.closest("[hx-target]") && form.closest("[hx-target]").querySelector("[data-cancel]")));
  if (!cancel) return;
  event.preventDefault();
  cancel.click();
});

// A part with data-preserve (the filter panel) keeps, across its re-render, the sections the user
// opened or closed (details[data-key]) and the control that had focus.
let preserved = [];
function snapshotPreserved() {
  preserved = Array.from(document.querySelectorAll("[data-preserve][id]"), (el) => {
    const open = {};
    for (const d of el.querySelectorAll("details[data-key]")) open[d.dataset.key] = d.open;
    const active = document.activeElement;
    return { id: el.id, node: el, open, control: el.contains(active) ? describeControl(active) : null };
  });
}
function restorePreserved() {
  const kept = [];
  for (const snap of preserved) {
    const now = document.getElementById(snap.id);
    if (!now || now === snap.node) { kept.push(snap); continue; }
    for (const d of now.querySelectorAll("details[data-key]")) {
      const was = snap.open[d.dataset.key];
      if (was === true) d.open = true;
      else if (was === false && !d.querySelector("input:checked:not([value=''])")) d.open = false;
    }
    const active = document.activeElement;
    if (snap.control && (!active || active === document.body || !active.isConnected || now.contains(active))) {
      const again = findControl(now, snap.control);
      if (again && again !== active) again.focus({ preventScroll: true });
    }
  }
  preserved = kept;
}

// The record tabs (WAI-ARIA tabs, manual activation): Left/Right/Home/End move focus along the
// tabs, Enter (the link's own) or Space opens the focused tab. Only the selected tab is a Tab stop.
document.addEventListener("keydown", (event) => {
  const tab = event.target.closest && event.target.closest('[role="tab"]');
  if (!tab || event.altKey || event.ctrlKey || event.metaKey) return;
  const tabs = Array.from(tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]'));
  const i = tabs.indexOf(tab);
  let next = null;
  if (event.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
  else if (event.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
  else if (event.key === "Home") next = tabs[0];
  else if (event.key === "End") next = tabs[tabs.length - 1];
  else if (event.key === " ") { event.preventDefault(); tab.click(); return; }
  if (!next) return;
  event.preventDefault();
  next.focus();
  next.scrollIntoView({ block: "nearest", inline: "nearest" });
});

// A control focused inside a sideways-scrolling strip (the overview table, the tabs) is scrolled
// into view: the browser alone can leave a link half under the strip's edge.
document.addEventListener("focusin", (event) => {
  const el = event.target;
  if (el.closest && el.closest(".table-scroll, .table-wrap, .tabs")) el.scrollIntoView({ block: "nearest", inline: "nearest" });
});
