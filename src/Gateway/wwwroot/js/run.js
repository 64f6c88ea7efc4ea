// The run page: the chart, and live updates from the run's event stream. A trial's point is drawn as soon as its
// event arrives; then the server re-renders the header, trial table, candidates and chart data, and the page
// swaps them in. "Pause" closes the stream; "Resume" reopens it after the last event seen.
import { followRun, refreshFromServer, tickAges } from "./live.js";
import { trajectoryChart } from "./trajectory.js";

const header = document.getElementById("run-header");
const readData = (root) => JSON.parse(root.getElementById("trajectory-data").textContent);
const chart = trajectoryChart(document.getElementById("trajectory"), readData(document));
tickAges();

for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("[data-view]")) other.setAttribute("aria-pressed", String(other === button));
    chart.view(button.dataset.view);
  });
}

const sections = ["run-header", "trials", "candidates", "trajectory-data"];
let state = "connecting";
let stream = null;
let lastId = Number(header.dataset.lastEventId) || 0;

function showState(next) {
  state = next;
  const label = document.getElementById("live-state");
  if (label) {
    label.dataset.state = next;
    label.textContent = { live: "live", reconnecting: "reconnecting…", paused: "paused", closed: "run ended", connecting: "connecting…" }[next];
  }
  const toggle = document.getElementById("live-toggle");
  if (toggle) {
    toggle.setAttribute("aria-pressed", String(next === "paused"));
    toggle.textContent = next === "paused" ? "Resume live updates" : "Pause live updates";
  }
}

function refresh() {
  const before = new Set([...document.querySelectorAll("#trials tr[data-iteration]")].map((row) => row.dataset.iteration));
  return refreshFromServer(sections, (swap) => swap(), () => {
    chart.show(readData(document));
    for (const row of document.querySelectorAll("#trials tr[data-iteration]")) {
      if (!before.has(row.dataset.iteration)) row.classList.add("fresh");
    }
    showState(state);
  });
}

function follow() {
  stream = followRun(header.dataset.runId, lastId, {
    iteration: (event) => { chart.add(event); refresh(); },
    progress: () => refresh(),
    best_score: () => refresh(),
    status: () => refresh(),
    any: (_, __, id) => { lastId = id; },
  }, showState);
}

document.addEventListener("click", (event) => {
  if (!event.target.closest("#live-toggle")) return;
  if (state === "paused") {
    showState("connecting");
    follow();
    refresh();
  } else {
    stream?.close();
    showState("paused");
  }
});

if (!["completed", "failed", "cancelled"].includes(header.dataset.status)) follow();
else showState("closed");
