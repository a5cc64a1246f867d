// The Graph tab's chart: a range-query matrix drawn with uPlot as lines or stacked areas, with a legend that
// shows hover values, toggles series on click and filters by text.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import uPlot from 'uplot';
import { formatSeries, type Metric } from '../format.js';

export interface MatrixSeries {
  metric: Metric;
  values?: [number, string][];
  histograms?: unknown[];
}

/** Performance marks the UI benchmark reads (bench/ui.ts). */
export const MARK_DRAWN = 'tsprom:graph-drawn';

const CHART_HEIGHT = 360;

/** A well-spread hue per series index (golden angle), readable on light and dark backgrounds. */
function color(i: number): string {
  return `hsl(${(i * 137.508) % 360}, 65%, 50%)`;
}

/** Columns for uPlot: x (seconds) then one array per series, aligned on the query's steps; gaps (and non-finite values) are null. */
export function toColumns(series: MatrixSeries[], startS: number, endS: number, stepS: number, stacked: boolean): (number | null)[][] {
  const n = Math.floor((endS - startS) / stepS) + 1;
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = startS + i * stepS;
  const cols: (number | null)[][] = [xs];
  const acc = stacked ? new Float64Array(n) : null;
  for (const s of series) {
    const col = new Array<number | null>(n).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = Math.round((t - startS) / stepS);
      if (i < 0 || i >= n) continue;
      // NaN and ±Inf ("+Inf" is NaN to Number()) cannot be placed on an axis: they are left as gaps.
      const f = Number(v);
      if (!Number.isFinite(f)) continue;
      if (acc !== null) {
        acc[i]! += f;
        col[i] = acc[i]!;
      } else col[i] = f;
    }
    cols.push(col);
  }
  return cols;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function shortNumber(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return v === null ? '' : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

export function Chart(props: { series: MatrixSeries[]; startS: number; endS: number; stepS: number; stacked: boolean }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [filter, setFilter] = useState('');

  // A layout effect: the chart is built before the browser paints, not a frame later.
  useLayoutEffect(() => {
    const el = box.current;
    if (el === null) return;
    const { series, startS, endS, stepS, stacked } = props;
    const axis = { stroke: cssVar('--fg'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid'), width: 1 } };
    let drawn = false;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: CHART_HEIGHT,
      series: [
        { value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' },
        ...series.map((s, i) => ({
          label: formatSeries(s.metric),
          stroke: color(i),
          width: 1.25,
          fill: stacked ? color(i).replace('50%)', '50%, 0.35)').replace('hsl', 'hsla') : undefined,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => shortNumber(v),
        })),
      ],
      axes: [axis, { ...axis, size: 70, values: (_u: uPlot, vals: number[]) => vals.map(shortNumber) }],
      scales: { x: { time: true } },
      cursor: { focus: { prox: 16 }, points: { size: 6 } },
      focus: { alpha: 0.3 },
      legend: { live: true },
      hooks: {
        draw: [
          () => {
            if (drawn) return;
            drawn = true;
            performance.mark(MARK_DRAWN);
          },
        ],
      },
    };
    const u = new uPlot(opts, toColumns(series, startS, endS, stepS, stacked) as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height: CHART_HEIGHT }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [props.series, props.startS, props.endS, props.stepS, props.stacked]);

  useEffect(() => {
    const u = plot.current;
    if (u === null) return;
    const needle = filter.trim().toLowerCase();
    const rows = u.root.querySelectorAll<HTMLElement>('.u-legend .u-series');
    u.batch(() => {
      for (let i = 1; i < u.series.length; i++) {
        const show = needle === '' || String(u.series[i]!.label).toLowerCase().includes(needle);
        if (u.series[i]!.show !== show) u.setSeries(i, { show });
        const row = rows[i];
        if (row !== undefined) row.style.display = show ? '' : 'none';
      }
    });
  }, [filter, props.series]);

  return (
    <div class="chart">
      <div ref={box} class="chart-box" />
      {props.series.length > 1 && (
        <input
          type="search"
          class="search legend-filter"
          placeholder="Filter series in the legend"
          value={filter}
          onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
        />
      )}
    </div>
  );
}
