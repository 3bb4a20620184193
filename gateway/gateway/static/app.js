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
  div.textContent = "The server cannot be reached. Check your connection and try again.";
  toasts.appendChild(div);
  setTimeout(() => div.remove(), 8000);
});
