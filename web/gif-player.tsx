/// <reference lib="dom" />
/**
 * A GIF played on a canvas so it can start at a moment (an <img> cannot seek): the frames are
 * decoded with the browser's ImageDecoder (WebCodecs) and shown for their own durations. Where the
 * browser has no ImageDecoder the GIF is shown as an image, and the page says it cannot seek.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

/** A GIF frame without a duration is shown this long (browsers do the same). */
const DEFAULT_FRAME_SECONDS = 0.1;

export interface GifSeek {
  at: number;
  /** Changes with every request, so seeking twice to one time seeks twice. */
  n: number;
}

interface Decoded {
  frames: VideoFrame[];
  /** Start time of each frame (s), and the total. */
  starts: number[];
  duration: number;
}

export function gifPlayable(): boolean {
  return typeof globalThis.ImageDecoder === 'function';
}

async function decodeGif(url: string): Promise<Decoded> {
  const data = await (await fetch(url)).arrayBuffer();
  const decoder = new ImageDecoder({ data, type: 'image/gif' });
  await decoder.tracks.ready;
  const count = decoder.tracks.selectedTrack?.frameCount ?? 0;
  const frames: VideoFrame[] = [];
  const starts: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    const { image } = await decoder.decode({ frameIndex: i });
    frames.push(image);
    starts.push(t);
    t += image.duration ? image.duration / 1e6 : DEFAULT_FRAME_SECONDS;
  }
  decoder.close();
  return { frames, starts, duration: t };
}

function frameAt(d: Decoded, t: number): number {
  let i = 0;
  while (i + 1 < d.starts.length && d.starts[i + 1]! <= t + 1e-6) i++;
  return i;
}

export function GifPlayer(props: { url: string; label: string; seek: GifSeek; onTime(t: number, duration: number): void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [decoded, setDecoded] = useState<Decoded>();
  const [error, setError] = useState('');
  const [playing, setPlaying] = useState(false);
  const index = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    let gone = false;
    let mine: Decoded | undefined;
    decodeGif(props.url).then(
      (d) => {
        if (gone) return d.frames.forEach((f) => f.close());
        mine = d;
        setDecoded(d);
      },
      (e: Error) => setError(`the GIF could not be decoded: ${e.message}`),
    );
    return () => {
      gone = true;
      window.clearTimeout(timer.current);
      mine?.frames.forEach((f) => f.close());
    };
  }, [props.url]);

  const show = (d: Decoded, i: number) => {
    index.current = i;
    const c = canvas.current;
    const f = d.frames[i];
    if (!c || !f) return;
    if (c.width !== f.displayWidth) c.width = f.displayWidth;
    if (c.height !== f.displayHeight) c.height = f.displayHeight;
    c.getContext('2d')?.drawImage(f, 0, 0);
    c.dataset.currentTime = String(d.starts[i]);
    props.onTime(d.starts[i]!, d.duration);
  };

  const play = (d: Decoded, from: number) => {
    window.clearTimeout(timer.current);
    setPlaying(true);
    // Where this playback began (like a <video>'s played ranges): what a seek is checked by.
    if (canvas.current) canvas.current.dataset.playedFrom = String(d.starts[from] ?? 0);
    const step = (i: number) => {
      show(d, i);
      if (i + 1 >= d.frames.length) return setPlaying(false);
      timer.current = window.setTimeout(() => step(i + 1), (d.starts[i + 1]! - d.starts[i]!) * 1000);
    };
    step(from);
  };

  const pause = () => {
    window.clearTimeout(timer.current);
    setPlaying(false);
  };

  // Every seek request starts playback from the frame showing at that time.
  useEffect(() => {
    if (decoded) play(decoded, frameAt(decoded, props.seek.at));
  }, [decoded, props.seek.n]);

  if (error) return <p class="error">{error}</p>;
  return (
    <div class="gif-player">
      <canvas ref={canvas} role="img" aria-label={props.label} data-testid="gif-player" />
      <div class="gif-controls">
        <button type="button" disabled={!decoded} onClick={() => (playing ? pause() : decoded && play(decoded, index.current + 1 >= decoded.frames.length ? 0 : index.current))}>
          {playing ? 'Pause' : 'Play'}
        </button>
        {!decoded && <span>Decoding…</span>}
      </div>
    </div>
  );
}
