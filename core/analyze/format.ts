/**
 * AnalysisResult -> the readable timeline `vidx analyze` prints: the video, the model (and,
 * plainly, whether its labels mean anything), segments by time, then the summary.
 */
import type { AnalysisResult } from '../result.ts';

export const UNTRAINED_NOTE = 'UNTRAINED model (synthetic weights): these labels mean nothing; they show the pipeline working';

function secs(t: number): string {
  return `${t.toFixed(2)} s`;
}

/** Probabilities: 3 decimals, or 2 significant digits below 0.01 (untrained models live there). */
export function prob(p: number): string {
  return p >= 0.01 || p === 0 ? p.toFixed(3) : p.toPrecision(2);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

export function formatTimeline(r: AnalysisResult): string {
  const v = r.video;
  const o = r.options;
  const lines: string[] = [];
  lines.push(`video:   ${v.source}  ${secs(v.duration)}  ${v.width}x${v.height}  ${+v.fps.toFixed(3)} fps  ${v.codec}${v.rotation ? `  rotated ${v.rotation}` : ''}`);
  lines.push(`model:   ${r.model.architecture}  ${r.model.trained ? 'trained' : 'untrained'}  (${r.model.source})`);
  if (!r.model.trained) lines.push(`note:    ${UNTRAINED_NOTE}`);
  const windowLen = r.windows.length ? r.windows[0]!.end - r.windows[0]!.start : 0;
  lines.push(
    `windows: ${r.windows.length} x ${secs(windowLen)}, stride ${secs(o.stride)}, top-${o.topK}, threshold ${o.threshold}, gap ${o.gap} window${o.gap === 1 ? '' : 's'}`,
  );
  lines.push('');
  if (r.segments.length === 0) {
    lines.push(`timeline: no label reached p >= ${o.threshold} in any window`);
    return lines.join('\n') + '\n';
  }
  const labelWidth = Math.min(40, Math.max(5, ...r.segments.map((s) => s.label.length)));
  const t = (x: number) => lpad(x.toFixed(2), 8);
  lines.push('timeline');
  lines.push(`  ${lpad('start', 8)}   ${lpad('end', 8)}  ${pad('label', labelWidth)}  ${lpad('max', 6)}  ${lpad('mean', 6)}  windows`);
  for (const s of r.segments) {
    lines.push(`  ${t(s.start)} - ${t(s.end)}  ${pad(s.label, labelWidth)}  ${lpad(prob(s.score), 6)}  ${lpad(prob(s.mean), 6)}  ${lpad(String(s.windows), 7)}`);
  }
  lines.push('');
  lines.push('summary (ranked by covered seconds x mean probability)');
  const summaryWidth = Math.min(40, Math.max(5, ...r.summary.map((e) => e.label.length)));
  r.summary.forEach((e, i) => {
    lines.push(`  ${lpad(String(i + 1), 3)}. ${pad(e.label, summaryWidth)}  ${lpad(e.seconds.toFixed(2), 8)} s  mean ${prob(e.score)}  weight ${prob(e.weight)}`);
  });
  return lines.join('\n') + '\n';
}
