// The overview's selection and its bulk bar (issue 7). No inline scripts (CSP).
//
// CONTRACT for features with a button in the bar (E-mail, Excel report, ...):
//   - the bar holds <form id="bulk-selection"> with two hidden inputs, kept current by this file:
//       selection        JSON: {"ids": [1, 2]} or {"filter": {<overview query fields>}, "exclude_ids": [..]}
//                        (the crm's SelectionIn; parse it in the gateway with gateway.selection.parse_selection)
//       selection_count  how many companies that is (for labels; the service counts again)
//   - a button: hx-post="<url>" hx-include="#bulk-selection" hx-target="#bulk-dialog"
//     (templates/bulk/_bar.html renders one per endpoint in bulk.EXTRA_BUTTONS that exists)
//   - #bulk-dialog (an empty <div> inside <dialog id="bulk-modal">) is where dialogs render: the
//     modal opens when something is swapped in and empties when closed (data-close-dialog closes it).
//   - respond with the header "HX-Trigger: bulk-applied" after a change: the list and its counts reload.
//
// State lives in sessionStorage (per tab, per user: data-storage-key on #bulk-bar), so it survives
// paging, sorting and the back button. Space toggles the focused row, Escape clears the selection.
(function () {
  "use strict";

  function bar() { return document.getElementById("bulk-bar"); }
  function results() { return document.getElementById("results"); }

  function empty() { return { mode: "ids", ids: {}, filter: null, total: 0, exclude: {}, key: null, seenKey: null }; }

  function load() {
    const b = bar();
    if (!b) return empty();
    try {
      const raw = sessionStorage.getItem(b.dataset.storageKey);
      return raw ? Object.assign(empty(), JSON.parse(raw)) : empty();
    } catch (e) {
      return empty();
    }
  }

  function save(state) {
    const b = bar();
    if (b) sessionStorage.setItem(b.dataset.storageKey, JSON.stringify(state));
  }

  function count(state) {
    if (state.mode === "filter") return Math.max(0, state.total - Object.keys(state.exclude).length);
    return Object.keys(state.ids).length;
  }

  function payload(state) {
    if (state.mode === "filter") {
      const out = { filter: state.filter };
      const excluded = Object.keys(state.exclude).map(Number);
      if (excluded.length) out.exclude_ids = excluded;
      return out;
    }
    return { ids: Object.keys(state.ids).map(Number) };
  }

  function pageKey() {
    const r = results();
    return r ? (r.dataset.filterKey || "") : "";
  }

  function rows() {
    const r = results();
    return r ? Array.from(r.querySelectorAll("input.row-select")) : [];
  }

  function isSelected(state, id) {
    if (state.mode === "filter") return state.key === pageKey() && !state.exclude[id];
    return Boolean(state.ids[id]);
  }

  // Draw the state: row boxes, header box, bar, hidden inputs, "select all", the keep/clear prompt.
  function say(b, key, english) {
    return b.getAttribute(`data-t-${key}`) || english;
  }

  function render(state) {
    const b = bar();
    if (!b) return;
    const n = count(state);
    const foreign = state.mode === "filter" && state.key !== pageKey();
    const boxes = rows();
    let checked = 0;
    for (const box of boxes) {
      box.checked = isSelected(state, box.value);
      box.disabled = foreign;
      box.title = foreign ? say(b, "foreign", "All companies of another search are selected: clear the selection to pick rows here") : "";
      if (box.checked) checked += 1;
      const row = box.closest("tr");
      if (row) row.classList.toggle("selected", box.checked);
    }
    const header = document.getElementById("select-page");
    if (header) {
      header.checked = boxes.length > 0 && checked === boxes.length;
      header.indeterminate = checked > 0 && checked < boxes.length;
      header.disabled = foreign;
    }
    const form = document.getElementById("bulk-selection");
    form.elements.namedItem("selection").value = n ? JSON.stringify(payload(state)) : "";
    form.elements.namedItem("selection_count").value = String(n);
    b.querySelector("[data-bulk-count]").textContent = n.toLocaleString(document.documentElement.lang || "en");
    // the words come translated from the template (data-t-* on #bulk-bar, issue 14); English if missing
    const one = n === 1 ? "one" : "many";
    b.querySelector("[data-bulk-noun]").textContent = state.mode === "filter"
      ? (state.key === pageKey()
        ? say(b, `all-this-${one}`, `selected: every compan${n === 1 ? "y" : "ies"} matching this search and these filters`)
        : say(b, `all-earlier-${one}`, `selected: every compan${n === 1 ? "y" : "ies"} matching the earlier search`))
      : say(b, one, `compan${n === 1 ? "y" : "ies"} selected`);
    const total = Number((results() && results().dataset.total) || 0);
    const all = b.querySelector("[data-bulk-all]");
    all.hidden = !(state.mode === "ids" && header && header.checked && total > boxes.length);
    b.querySelector("[data-bulk-total]").textContent = total.toLocaleString("en");
    const prompt = b.querySelector("[data-bulk-prompt]");
    prompt.hidden = !(n > 0 && state.key !== null && state.key !== pageKey() && state.seenKey !== pageKey());
    for (const button of b.querySelectorAll("[data-bulk-action], .bulk-actions [hx-post]")) button.disabled = n === 0;
    b.hidden = n === 0;
  }

  function update(fn) {
    const state = load();
    fn(state);
    if (count(state) === 0) {
      save(empty());
      render(empty());
      return;
    }
    if (state.key === null) state.key = pageKey();
    save(state);
    render(state);
  }

  function toggle(id, on) {
    update((state) => {
      if (state.mode === "filter") {
        if (on) delete state.exclude[id]; else state.exclude[id] = true;
      } else if (on) {
        state.ids[id] = true;
      } else {
        delete state.ids[id];
      }
    });
  }

  function clear() {
    save(empty());
    render(empty());
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches && box.matches("input.row-select")) {
      toggle(box.value, box.checked);
    } else if (box.id === "select-page") {
      const on = box.checked;
      update((state) => {
        for (const row of rows()) {
          if (state.mode === "filter") {
            if (on) delete state.exclude[row.value]; else state.exclude[row.value] = true;
          } else if (on) {
            state.ids[row.value] = true;
          } else {
            delete state.ids[row.value];
          }
        }
      });
    }
  });

  document.addEventListener("click", (event) => {
    const target = event.target.closest && event.target.closest("[data-bulk-select-all], [data-bulk-clear], [data-bulk-keep]");
    if (!target) return;
    if (target.matches("[data-bulk-select-all]")) {
      const r = results();
      update((state) => {
        state.mode = "filter";
        state.filter = JSON.parse(r.dataset.filter || "{}");
        state.total = Number(r.dataset.total || 0);
        state.exclude = {};
        state.ids = {};
        state.key = pageKey();
        state.seenKey = null;
      });
    } else if (target.matches("[data-bulk-clear]")) {
      clear();
    } else {
      // keep: a picked set of rows now belongs to the new search; "all matching" stays the earlier search
      update((state) => {
        if (state.mode === "ids") state.key = pageKey();
        state.seenKey = pageKey();
      });
    }
  });

  document.addEventListener("keydown", (event) => {
    const openDialog = document.querySelector("dialog[open]");
    if (event.key === "Escape") {
      if (openDialog || !bar()) return;
      const field = event.target.closest && event.target.closest("input:not([type=checkbox]), select, textarea");
      if (field) return;
      if (count(load()) > 0) {
        event.preventDefault();
        clear();
      }
      return;
    }
    if (event.key !== " " || openDialog) return;
    const row = event.target.closest && event.target.closest("#results tr[data-id]");
    if (!row || event.target.matches("input, select, textarea, button")) return;
    const box = row.querySelector("input.row-select");
    if (!box || box.disabled) return;
    event.preventDefault(); // no page scroll: space picks the row
    box.checked = !box.checked;
    toggle(box.value, box.checked);
  });

  // The dialog: opens when a dialog is swapped into #bulk-dialog, empties when closed.
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const inner = document.getElementById("bulk-dialog");
    if (!inner || !target || !(target === inner || inner.contains(target))) return;
    const modal = document.getElementById("bulk-modal");
    if (modal && !modal.open && inner.textContent.trim() !== "") modal.showModal();
    const first = inner.querySelector("[autofocus], select, input:not([type=hidden])");
    if (first && target === inner) first.focus();
  });
  document.addEventListener("close", (event) => {
    if (event.target.id === "bulk-modal") document.getElementById("bulk-dialog").replaceChildren();
  }, true);

  // A change was applied: reload the list (same page, sort and filters) and, through it, the filter counts.
  document.body.addEventListener("bulk-applied", () => {
    if (results() && window.htmx) {
      htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#results", swap: "outerHTML" });
    }
  });

  // After every swap (paging, sorting, search, filters, back) draw the selection again.
  document.addEventListener("htmx:afterSettle", () => render(load()));
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => render(load()));
  } else {
    render(load());
  }
  window.addEventListener("pageshow", () => render(load()));
})();
