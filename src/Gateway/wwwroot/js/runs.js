// The run list: rows of runs that can still change follow their runs' event streams (a few at a time: a browser
// opens only six connections to one server), and the list re-renders from the server when one of them changes.
import { followRun, refreshFromServer } from "./live.js";

const table = document.getElementById("runs");
if (table) {
  const ids = (table.dataset.liveList || "").split(" ").filter(Boolean);
  for (const id of ids.slice(0, 4)) {
    // From the event the server rendered the row with: only what happens later changes the list.
    const after = Number(table.querySelector(`tr[data-run-id="${id}"]`)?.dataset.lastEventId) || 0;
    followRun(id, after, { any: () => refreshFromServer(["runs-count", "runs"], keepPicks) });
  }
}

// A refreshed table keeps what the user ticked.
function keepPicks(swap) {
  const picked = new Set([...document.querySelectorAll("input[name=pick]:checked")].map((box) => box.value));
  swap();
  for (const box of document.querySelectorAll("input[name=pick]")) box.checked = picked.has(box.value);
}
