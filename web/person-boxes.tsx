/// <reference lib="dom" />
/**
 * Who is where, drawn over the playing video: the boxes of the timeline's person segments whose
 * keyframe stands for the current time (a keyframe at t covers [t - I/2, t + I/2), I the
 * keyframe interval), one box per person with their actions at that keyframe, in the person's
 * colour (the same as `analyze --annotate`).
 */
import { personColour } from '../core/detection/colours.ts';
import type { TimelineResponse } from '../core/query/responses.ts';

type Seg = TimelineResponse['segments'][number];

export interface PersonBox {
  person: number;
  /** Actions of the person's segments at this keyframe, best first. */
  actions: string[];
  box: readonly [number, number, number, number];
}

/** The keyframe interval the boxes were found at: the smallest gap between keyframe times (1 s when there is one keyframe). */
export function keyframeInterval(segments: readonly Seg[]): number {
  const times = [...new Set(segments.flatMap((s) => (s.boxes ?? []).map((b) => b.t)))].sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return Number.isFinite(gap) && gap > 0 ? gap : 1;
}

/** Each person's box at the keyframe whose span holds `now`, with their actions there. */
export function boxesAt(segments: readonly Seg[], now: number, interval: number): PersonBox[] {
  const found = new Map<number, PersonBox & { scores: number[] }>();
  for (const s of segments) {
    if (s.kind !== 'person' || s.person === undefined) continue;
    const at = s.boxes?.find((b) => now >= b.t - interval / 2 && now < b.t + interval / 2);
    if (!at) continue;
    const p = found.get(s.person) ?? { person: s.person, actions: [], scores: [], box: at.box };
    p.actions.push(s.label);
    p.scores.push(s.score);
    found.set(s.person, p);
  }
  return [...found.values()]
    .map(({ scores, actions, ...p }) => ({ ...p, actions: actions.map((a, i) => [a, scores[i]!] as const).sort((x, y) => y[1] - x[1]).map(([a]) => a) }))
    .sort((a, b) => a.person - b.person);
}

/** Where the picture sits inside its element (object-fit: contain letterboxes it). */
export interface ContentRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function containRect(element: { width: number; height: number }, picture: { width: number; height: number }): ContentRect {
  if (picture.width <= 0 || picture.height <= 0) return { left: 0, top: 0, ...element };
  const scale = Math.min(element.width / picture.width, element.height / picture.height);
  const width = picture.width * scale;
  const height = picture.height * scale;
  return { left: (element.width - width) / 2, top: (element.height - height) / 2, width, height };
}

const pct = (f: number) => `${(f * 100).toFixed(3)}%`;

/** A box this close to the top (fraction of the picture) gets its label inside, not above it. */
const LABEL_ROOM = 0.08;

/** Relative luminance of `#RRGGBB` (WCAG 2). */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** Black or white, whichever reads better on `background` (WCAG contrast ratio). */
export function labelInk(background: string): '#000' | '#fff' {
  const l = luminance(background);
  return (1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#fff' : '#000');
}

export function PersonBoxes(props: { boxes: readonly PersonBox[]; rect: ContentRect; picked?: number | undefined }) {
  const { rect } = props;
  if (props.boxes.length === 0) return null;
  return (
    <div class="person-boxes" aria-hidden="true" style={{ left: `${rect.left}px`, top: `${rect.top}px`, width: `${rect.width}px`, height: `${rect.height}px` }}>
      {props.boxes.map((p) => {
        const [x1, y1, x2, y2] = p.box;
        const colour = personColour(p.person);
        return (
          <div
            key={p.person}
            class={`person-box${y1 < LABEL_ROOM ? ' label-inside' : ''}${props.picked === p.person ? ' picked' : props.picked !== undefined ? ' other' : ''}`}
            data-testid="person-box"
            data-person={p.person}
            style={{ left: pct(x1), top: pct(y1), width: pct(x2 - x1), height: pct(y2 - y1), borderColor: colour }}
          >
            <span style={{ background: colour, color: labelInk(colour) }}>
              person {p.person}
              {p.actions.length > 0 ? `: ${p.actions.slice(0, 2).join(', ')}` : ''}
            </span>
          </div>
        );
      })}
    </div>
  );
}
