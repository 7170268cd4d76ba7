// Keeps a session page's #live part current from the server's event stream; no framework.
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  const url = live && live.dataset.events;
  if (!url) return;
  const events = new EventSource(url);
  events.addEventListener("matrix", (event) => { live.innerHTML = event.data; });
  events.addEventListener("end", () => events.close());
});
