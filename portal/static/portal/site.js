// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || "✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Elements with data-poll-url replace themselves with the URL's HTML every few seconds until the
// server answers with an element that has no data-poll-url (a final state).
function poll(element) {
  const url = element.dataset.pollUrl;
  if (!url) return;
  setTimeout(async () => {
    try {
      const response = await fetch(url, { headers: { "X-Requested-With": "fetch" } });
      if (response.ok) {
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        const fresh = holder.firstElementChild;
        element.replaceWith(fresh);
        poll(fresh);
        return;
      }
    } catch (error) { /* network hiccup: try again */ }
    poll(element);
  }, Number(element.dataset.pollEvery || 2000));
}
document.querySelectorAll("[data-poll-url]").forEach(poll);

// A form marked data-auto-submit (the hand-off to a wallet's checkout) posts itself at once; its
// button stays for browsers without scripts.
document.querySelectorAll("form[data-auto-submit]").forEach((form) => form.submit());
