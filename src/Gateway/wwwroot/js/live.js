// Live updates: one EventSource per followed run on the existing SSE endpoint (the session cookie authenticates
// it). EventSource reconnects by itself and sends Last-Event-ID, so no event is missed or repeated; a stream that
// the server ends (the run ended) is closed here rather than reopened.

const ended = new Set(["completed", "failed", "cancelled"]);

/**
 * Follows a run's events after `afterId`. `handlers` has a function per event name (progress, iteration,
 * best_score, status) and/or `any`; `onState` hears "live", "reconnecting" and "closed".
 * Returns { close(), lastId() }.
 */
export function followRun(runId, afterId, handlers, onState = () => {}) {
  let lastId = afterId;
  let finished = false;
  const source = new EventSource(`/api/optimization/runs/${runId}/events?after=${afterId}`);
  const handle = (name) => (message) => {
    lastId = Number(message.lastEventId) || lastId;
    const data = JSON.parse(message.data);
    handlers[name]?.(data, lastId);
    handlers.any?.(name, data, lastId);
    if (name === "status" && ended.has(data.status)) {
      finished = true;
      source.close();
      onState("closed");
    }
  };
  for (const name of ["progress", "iteration", "best_score", "status"]) source.addEventListener(name, handle(name));
  source.onopen = () => onState("live");
  source.onerror = () => {
    if (finished) return;
    onState(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
  };
  return {
    close() { finished = true; source.close(); },
    lastId: () => lastId,
  };
}

let inFlight = null;
let again = false;

/**
 * Re-renders the elements with these ids from a fresh server rendering of this page: the server renders, the
 * browser only swaps. At most one request at a time; changes during one cause one more. `wrap` may wrap the swap.
 */
export function refreshFromServer(ids, wrap = (swap) => swap(), after = () => {}) {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    try {
      const answer = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      wrap(() => {
        for (const id of ids) {
          const fresh = page.getElementById(id);
          const old = document.getElementById(id);
          if (fresh && old) old.replaceWith(document.importNode(fresh, true));
        }
      });
      after(page);
    } finally {
      inFlight = null;
      if (again) {
        again = false;
        refreshFromServer(ids, wrap, after);
      }
    }
  })();
  return inFlight;
}

/** Keeps every <time data-age> saying how long ago it was ("12 s ago"). */
export function tickAges(root = document) {
  const update = () => {
    for (const el of root.querySelectorAll("time[data-age]")) {
      const at = Date.parse(el.dateTime);
      if (Number.isNaN(at)) continue;
      const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
      el.textContent = seconds < 90 ? `${seconds} s ago` : seconds < 5400 ? `${Math.round(seconds / 60)} min ago` : `${Math.round(seconds / 3600)} h ago`;
    }
  };
  update();
  return setInterval(update, 1000);
}
