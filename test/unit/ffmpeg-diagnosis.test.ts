import { describe, expect, it } from 'vitest';
import { MAX_DIAGNOSIS_LENGTH, ffmpegDiagnosis } from '../../core/video/ffmpeg.ts';

// stderr as ffmpeg 7 writes it for a file whose coded frames are damaged (recorded).
const DAMAGED = [
  '[h264 @ 0x3961eec0] Invalid NAL unit size (-1449621642 > 1193).',
  '[h264 @ 0x3961eec0] Error splitting the input into NAL units.',
  '[Parsed_showinfo_1 @ 0x3961f000] n:   8 pts:  16384 pts_time:0.666667 duration:    512',
  '/tmp/v/corrupt.mp4: Invalid data found when processing input',
  'frame=    9 fps=0.0 q=-0.0 Lsize=      15kB time=00:00:01.08 bitrate= 114.8kbits/s speed=6.25x    ',
  'video:15kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: 0.000000%',
  'Conversion failed!',
].join('\n');

describe('ffmpegDiagnosis', () => {
  it('keeps the last distinct error lines, without pointers, progress, filter output or summaries', () => {
    expect(ffmpegDiagnosis(DAMAGED, '/tmp/v/corrupt.mp4')).toBe('h264: Error splitting the input into NAL units.; Invalid data found when processing input');
  });

  it('names a demuxer by its first name and drops a repeated line', () => {
    const s = '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x15754bc0] moov atom not found\n[mov,mp4,m4a,3gp,3g2,mj2 @ 0x15754bc0] moov atom not found\nx.mp4: Invalid data found when processing input\n';
    expect(ffmpegDiagnosis(s, 'x.mp4')).toBe('mov: moov atom not found; Invalid data found when processing input');
  });

  it('is bounded, and says so when ffmpeg said nothing useful', () => {
    expect(ffmpegDiagnosis(`${'x'.repeat(5000)}\n`).length).toBe(MAX_DIAGNOSIS_LENGTH);
    expect(ffmpegDiagnosis('frame=  1 fps=0.0\nConversion failed!\n')).toBe('no diagnostic from ffmpeg');
  });
});
