import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface Series {
  label: string;
  color: string;
  values: number[];
}

interface MultiChartProps {
  label: string;
  /** What the chart shows, in words, for screen readers. */
  summary: string;
  /** Seconds since the epoch. */
  times: number[];
  series: Series[];
  min?: number;
  max?: number;
}

/** Several series over time as lines, with a legend (uPlot). */
export function MultiChart({ label, summary, times, series, min, max }: MultiChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const names = series.map((s) => `${s.label}:${s.color}`).join('|');
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth || 600),
        height: 220,
        scales: min === undefined || max === undefined ? {} : { y: { range: [min, max] } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [times, ...series.map((s) => s.values)],
      element,
    );
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(280, element.clientWidth), height: 220 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [names, times, min, max]);
  return (
    <figure class="chart">
      <figcaption>{label}</figcaption>
      <div ref={box} role="img" aria-label={`${label}: ${summary}`} />
    </figure>
  );
}
