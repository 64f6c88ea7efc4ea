// The trajectory chart (uPlot): minibatch trials as small dots, full evaluations and the baseline as large
// markers, the best-so-far of full evaluations as a step line, the baseline as a line; or the cumulative cost.
// The data are the columns the server rendered from the /trajectory answer; nothing is derived here but the
// drawing (and a provisional point for a trial that just arrived, until the server's next rendering).

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const isFull = (kind) => kind === "full" || kind === "baseline";

function columns(data, view) {
  // By time: the trials that have a time, in time order (seconds since the epoch, as uPlot's time scale wants).
  const order = view === "time"
    ? data.at.map((at, i) => [at === null ? NaN : Date.parse(at) / 1000, i]).filter(([t]) => !Number.isNaN(t)).sort((a, b) => a[0] - b[0]).map(([, i]) => i)
    : data.iteration.map((_, i) => i);
  const x = view === "time" ? order.map((i) => Date.parse(data.at[i]) / 1000) : order.map((i) => data.iteration[i]);
  if (view === "cost") return [x, order.map((i) => Number(data.cost[i]))];
  const pick = (keep) => order.map((i) => (data.score[i] !== null && keep(data.kind[i]) ? Number(data.score[i]) : null));
  const baseline = data.baseline === null || data.baseline === undefined ? null : Number(data.baseline);
  return [x, pick((k) => k === "minibatch"), pick(isFull), order.map((i) => (data.best[i] === null ? null : Number(data.best[i]))), x.map(() => baseline)];
}

function options(view, width) {
  const dots = (color, size) => ({ stroke: color, fill: color, paths: () => null, points: { show: true, size, fill: color, stroke: color } });
  const axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line") } };
  // Trials are whole numbers: ticks only on them.
  const trialAxis = { ...axis, label: "trial", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] };
  const common = {
    width, height: 300, legend: { show: false }, cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false } },
  };
  if (view === "cost") {
    return { ...common, axes: [trialAxis, { ...axis, label: "cumulative cost (USD)", size: 70 }],
      series: [{ label: "trial" }, { label: "cost", stroke: css("--full"), width: 2 }] };
  }
  return {
    ...common,
    scales: { x: { time: view === "time" }, y: { range: (u, min, max) => [Math.max(0, Math.min(min ?? 0, 1) - 0.05), Math.min(1, (max ?? 1) + 0.05)] } },
    axes: [view === "time" ? { ...axis, label: "time (local)" } : trialAxis, { ...axis, label: "score", size: 60 }],
    series: [
      { label: "trial" },
      { label: "minibatch", ...dots(css("--minibatch"), 6) },
      { label: "full", ...dots(css("--full"), 12) },
      { label: "best so far", stroke: css("--best"), width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      { label: "baseline", stroke: css("--baseline"), width: 1.5, dash: [6, 4], points: { show: false } },
    ],
  };
}

/** Draws into `container`; returns { show(data), add(event), view(name) }. */
export function trajectoryChart(container, initial) {
  let data = initial;
  let view = "score";
  let chart = null;
  const draw = () => {
    performance.mark("trajectory-render-start");
    chart?.destroy();
    const opts = options(view, container.clientWidth || 800);
    // uPlot draws after construction: the measure ends when the first drawing is done.
    let measured = false;
    opts.hooks = { draw: [() => { if (!measured) { measured = true; performance.measure("trajectory-render", "trajectory-render-start"); } }] };
    chart = new uPlot(opts, columns(data, view), container);
  };
  draw();
  new ResizeObserver(() => chart?.setSize({ width: container.clientWidth, height: 300 })).observe(container);
  return {
    show(next) { data = next; chart.setData(columns(data, view)); },
    view(name) { view = name; draw(); },
    // A trial the event stream just announced: drawn now; the server's rendering that follows replaces it.
    add({ iteration, kind, score }) {
      let i = data.iteration.indexOf(iteration);
      if (i < 0) {
        i = data.iteration.findIndex((it) => it > iteration);
        if (i < 0) i = data.iteration.length;
        const previous = i > 0 ? i - 1 : -1;
        for (const [key, value] of [["iteration", iteration], ["kind", kind], ["score", null],
          ["best", previous >= 0 ? data.best[previous] : null], ["cost", previous >= 0 ? data.cost[previous] : 0], ["at", null]]) {
          data[key].splice(i, 0, value);
        }
      }
      data.kind[i] = kind;
      data.score[i] = score;
      if (isFull(kind) && score !== null && (data.best[i] === null || Number(score) > Number(data.best[i]))) data.best[i] = score;
      chart.setData(columns(data, view));
      performance.mark(`trajectory-point-${iteration}`);
    },
  };
}
