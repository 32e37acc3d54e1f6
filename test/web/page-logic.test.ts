/** The page's pure rules: links to a moment, failures in words, result filters, timeline groups, label ink, multipart parts. */
import { describe, expect, it } from 'vitest';
import { momentQuery, parseMomentLink } from '../../web/links.ts';
import { failureText } from '../../web/failure.ts';
import { NO_FILTERS, passes, resultTitle } from '../../web/search.tsx';
import { laneGroups } from '../../web/player.tsx';
import { labelInk } from '../../web/person-boxes.tsx';
import { completeXml } from '../../web/upload.ts';
import { PERSON_COLOURS } from '../../core/detection/colours.ts';
import { MAX_UPLOAD_PARTS, UPLOAD_PART_BYTES, partSizeFor } from '../../core/query/media.ts';

const ID = '0123456789abcdef0123';

describe('links to a moment', () => {
  it('round-trip video, time (to a tenth) and person', () => {
    expect(momentQuery({ video: ID, t: 12.345, person: 3 })).toBe(`?video=${ID}&t=12.3&person=3`);
    expect(parseMomentLink(`?video=${ID}&t=12.3&person=3`)).toEqual({ video: ID, t: 12.3, person: 3 });
  });
  it('ignore what is not a valid moment', () => {
    expect(parseMomentLink('?video=../etc&t=1')).toBeUndefined();
    expect(parseMomentLink('')).toBeUndefined();
    expect(parseMomentLink(`?video=${ID}&t=-4&person=0`)).toEqual({ video: ID, t: 0 });
    expect(parseMomentLink(`?video=${ID}&t=abc`)).toEqual({ video: ID, t: 0 });
  });
});

describe('failures in plain words', () => {
  it('say what is wrong with the file, never the raw reason', () => {
    const text = failureText({ errorCode: 'NOT_A_VIDEO', reason: 'ffprobe: s3://vidx-local/videos/x.mp4: Invalid data found when processing input' });
    expect(text).toMatch(/not a video vidx can read/);
    expect(text).not.toMatch(/s3:|ffprobe|Invalid data/);
    expect(failureText({ errorCode: 'SOMETHING_NEW', reason: 'at /tmp/x: boom' })).toBe('Indexing failed (something new). Try again, or upload the file again.');
    expect(failureText({})).toMatch(/did not record/);
  });
});

describe('result filters and titles', () => {
  const day = 86_400_000;
  const uploaded = new Map([['a', 1_000 * day]]);
  it('keep a result of the kind asked for, uploaded within the days asked for', () => {
    expect(passes({ kind: 'person', videoId: 'a' }, NO_FILTERS, uploaded)).toBe(true);
    expect(passes({ kind: 'clip', videoId: 'a' }, { ...NO_FILTERS, kind: 'person' }, uploaded)).toBe(false);
    expect(passes({ kind: 'clip', videoId: 'a' }, { ...NO_FILTERS, days: 7 }, uploaded, 1_006 * day)).toBe(true);
    expect(passes({ kind: 'clip', videoId: 'a' }, { ...NO_FILTERS, days: 7 }, uploaded, 1_008 * day)).toBe(false);
    expect(passes({ kind: 'clip', videoId: 'unknown' }, { ...NO_FILTERS, days: 7 }, uploaded)).toBe(false);
  });
  it('name the person of a per-person result', () => {
    expect(resultTitle({ kind: 'person', person: 3, label: 'smoke' })).toBe('person 3 · smoke');
    expect(resultTitle({ kind: 'clip', label: 'smoke' })).toBe('smoke');
  });
});

describe('timeline lanes', () => {
  it('keep whole-frame lanes apart from one group per person, people in order', () => {
    const seg = (label: string, start: number, person?: number) => ({ label, start, end: start + 1, score: 0.5, mean: 0.5, windows: 1, kind: person ? ('person' as const) : ('clip' as const), ...(person ? { person } : {}) });
    const g = laneGroups([seg('run', 0), seg('stand', 0, 2), seg('run', 4), seg('smoke', 1, 1), seg('stand', 3, 2)]);
    expect([...g.clip.keys()]).toEqual(['run']);
    expect(g.clip.get('run')).toHaveLength(2);
    expect([...g.people.keys()]).toEqual([1, 2]);
    expect(g.people.get(2)!.get('stand')).toHaveLength(2);
  });
});

describe('person labels', () => {
  it('are black or white, whichever gives at least 4.5:1 on each person colour', () => {
    const lum = (hex: string) => {
      const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
    };
    for (const colour of PERSON_COLOURS) {
      const l = lum(colour);
      const ratio = labelInk(colour) === '#fff' ? 1.05 / (l + 0.05) : (l + 0.05) / 0.05;
      expect(ratio, colour).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('multipart uploads', () => {
  it('use 8 MiB parts, larger ones for files that would need more than 1,000', () => {
    expect(partSizeFor(200 * 1024 * 1024)).toBe(UPLOAD_PART_BYTES);
    const huge = 100 * 1024 ** 3;
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(MAX_UPLOAD_PARTS);
    expect(partSizeFor(huge) % (1024 * 1024)).toBe(0);
  });
  it('complete with every part number and ETag in order, escaped', () => {
    expect(completeXml(['"a"', '"b&"'])).toBe('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"b&amp;"</ETag></Part></CompleteMultipartUpload>');
  });
});
