/** People in the exports (core/export/formats.ts): CSV person and box columns, MOT lines, VTT cues naming the person. */
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import webvtt from 'webvtt-parser';
import { toCsv, toMot, toWebVtt, type ExportableTimeline } from '../../core/export/formats.ts';

const timeline: ExportableTimeline = {
  video: { videoId: 'v1', key: 'videos/yard.mp4', fps: 25, width: 640, height: 360 },
  segments: [
    { label: 'walking', start: 0, end: 4, score: 0.7, mean: 0.6, windows: 2, kind: 'clip' },
    { label: 'stand', start: 0.5, end: 2.5, score: 0.9, mean: 0.8, windows: 2, kind: 'person', person: 2, boxes: [{ t: 1, box: [0.1, 0.2, 0.3, 0.8] }, { t: 2, box: [0.15, 0.2, 0.35, 0.8] }] },
    { label: 'talk to (e.g., self, a person, a group)', start: 0.5, end: 1.5, score: 0.6, mean: 0.6, windows: 1, kind: 'person', person: 2, boxes: [{ t: 1, box: [0.1, 0.2, 0.3, 0.8] }] },
    { label: 'sit', start: 1.5, end: 2.5, score: 0.8, mean: 0.8, windows: 1, kind: 'person', person: 1, boxes: [{ t: 2, box: [0.5, 0.5, 0.75, 1] }] },
  ],
};

describe('CSV with people', () => {
  it('names the kind, the person and each keyframe box of person segments; clip rows leave them empty', () => {
    const rows = parseCsv(toCsv(timeline), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.kind, r.person])).toEqual([['clip', ''], ['person', '2'], ['person', '2'], ['person', '1']]);
    expect(rows[0]!.boxes).toBe('');
    expect(rows[1]!.boxes).toBe('1.000 0.1000 0.2000 0.3000 0.8000;2.000 0.1500 0.2000 0.3500 0.8000');
    expect(rows[2]!.label).toBe('talk to (e.g., self, a person, a group)');
  });
});

describe('MOT', () => {
  it('one line per keyframe and person, in pixels, frames from 1, by frame then id, conf the best covering segment', () => {
    expect(toMot(timeline).split('\n')).toEqual([
      '26,2,64.00,72.00,128.00,216.00,0.900000,-1,-1,-1',
      '51,1,320.00,180.00,160.00,180.00,0.800000,-1,-1,-1',
      '51,2,96.00,72.00,128.00,216.00,0.900000,-1,-1,-1',
      '',
    ]);
  });

  it('writes frame fractions where the video size is unknown, and nothing for clip segments', () => {
    const unsized = { ...timeline, video: { videoId: 'v1', key: 'k', fps: 25 } };
    expect(toMot(unsized).split('\n')[0]).toBe('26,2,0.100000,0.200000,0.200000,0.600000,0.900000,-1,-1,-1');
    expect(toMot({ ...timeline, segments: [timeline.segments[0]!] })).toBe('');
  });
});

describe('WebVTT naming the person', () => {
  it('prefixes a person segment cue with the person, and leaves clip cues as they were', () => {
    const tree = new webvtt.WebVTTParser().parse(toWebVtt(timeline), 'metadata');
    expect(tree.errors).toEqual([]);
    expect(tree.cues.map((c) => c.text)).toEqual(['walking (0.70)', 'person 2: stand (0.90)', 'person 2: talk to (e.g., self, a person, a group) (0.60)', 'person 1: sit (0.80)']);
  });
});
