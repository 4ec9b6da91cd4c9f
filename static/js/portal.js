// The portal's only script of its own: no inline handlers (Content-Security-Policy).
document.querySelectorAll("[data-portal-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
