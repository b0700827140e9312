import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

interface ChartProps {
  /** Names the chart for screen readers, with `summary` (the latest value, in words). */
  label: string;
  summary: string;
  unit: string;
  /** Seconds since the epoch, and the values at those times (null: no value). */
  times: number[];
  values: Array<number | null>;
}

/** One time series as a line (uPlot: small, canvas-drawn, fast on long series). */
export function Chart({ label, summary, unit, times, values }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(
      {
        width: Math.max(240, element.clientWidth || 320),
        height: 160,
        legend: { show: false },
        series: [{}, { label: unit, stroke: '#1f4e8c', width: 2, spanGaps: true }],
        axes: [{}, { size: 60 }],
      },
      [[], []],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(240, element.clientWidth), height: 160 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [unit]);
  useEffect(() => {
    plot.current?.setData([times, values as number[]]);
  }, [times, values]);
  return (
    <figure class="chart">
      <figcaption>
        {label}: <strong>{summary}</strong>
      </figcaption>
      <div ref={box} role="img" aria-label={`${label} over time: ${summary}`} />
    </figure>
  );
}
