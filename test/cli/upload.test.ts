import { describe, expect, it } from 'vitest';
import { describeTopLabels } from '../../cli/commands/upload.ts';

const seg = (label: string, score: number) => ({ label, score });

describe('vidx upload --wait: what an indexed video is about', () => {
  it('names the best labels by their best segment score, best first', () => {
    const t = { video: { trained: true }, segments: [seg('b', 0.4), seg('a', 0.9), seg('b', 0.6), seg('c', 0.1), seg('d', 0.2)] };
    expect(describeTopLabels(t)).toBe('a (0.90), b (0.60), d (0.20)');
  });

  it('says plainly when the model is untrained', () => {
    const t = { video: { trained: false }, segments: [seg('x', 0.003)] };
    expect(describeTopLabels(t)).toBe('x (0.00) — untrained model: these labels mean nothing');
  });

  it('says when nothing was found', () => {
    expect(describeTopLabels({ video: { trained: true }, segments: [] })).toBe('no action segments');
  });
});
