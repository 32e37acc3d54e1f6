/// <reference lib="dom" />
/**
 * The videos, newest first, with their status followed without reload (every 2 s while one is
 * queued or processing, else every 15 s), and upload by drag and drop or a file picker: each file
 * goes to storage under the video prefix (web/upload.ts: in parts when large), then indexes like
 * any upload. The files of a drop go one after another; one that fails says why on its own line
 * and the next one starts all the same.
 */
import { useEffect, useState } from 'preact/hooks';
import type { VideoView } from '../core/query/responses.ts';
import { isUnreachable, type Api } from './api.ts';
import { failureText } from './failure.ts';
import { statusText, videoName } from './format.ts';
import { uploadFile } from './upload.ts';

const BUSY_POLL_MS = 2000;
const IDLE_POLL_MS = 15_000;

export function Videos(props: { api: Api; manage: boolean; onOpen(videoId: string): void; onList(videos: VideoView[]): void; onClosed?(videoId: string): void }) {
  const [videos, setVideos] = useState<VideoView[]>();
  const [error, setError] = useState('');
  const [said, setSaid] = useState<Record<string, string>>({});
  const say = (id: string, text: string) => setSaid((all) => ({ ...all, [id]: text }));
  const retry = (v: VideoView) =>
    props.api.retry(v.videoId).then(
      (text) => {
        say(v.videoId, text);
        setTick((t) => t + 1);
      },
      (e: Error) => say(v.videoId, `retry failed: ${e.message}`),
    );
  const remove = (v: VideoView) => {
    if (!window.confirm(`Delete ${videoName(v.key)}, its timeline and its file from vidx?`)) return;
    props.api.remove(v.videoId).then(
      () => {
        props.onClosed?.(v.videoId);
        setTick((t) => t + 1);
      },
      (e: Error) => say(v.videoId, `delete failed: ${e.message}`),
    );
  };
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let timer: number | undefined;
    let alive = true;
    const poll = () => {
      props.api.videos().then(
        (r) => {
          if (!alive) return;
          setVideos(r.items);
          props.onList(r.items);
          setError('');
          const busy = r.items.some((v) => v.status === 'queued' || v.status === 'processing');
          timer = window.setTimeout(poll, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
        },
        (e: Error) => {
          if (!alive) return;
          setError(isUnreachable(e) ? '' : e.message); // no answer at all: said once, for the whole page

          timer = window.setTimeout(poll, IDLE_POLL_MS);
        },
      );
    };
    poll();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [tick]);

  return (
    <section class="videos" aria-labelledby="videos-title">
      <h2 id="videos-title">Videos</h2>
      <Upload api={props.api} onUploaded={() => setTick((t) => t + 1)} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {videos && videos.length === 0 && <p>No videos yet: drop one above to begin.</p>}
      {videos && videos.length > 0 && (
        <table>
          <caption class="sr-only">Videos, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Video</th>
              <th scope="col">Status</th>
              <th scope="col">Length</th>
              <th scope="col">Uploaded</th>
            </tr>
          </thead>
          <tbody>
            {videos.map((v) => (
              <tr key={v.videoId} data-status={v.status}>
                <td>
                  <div class="name">
                    {v.thumbnail ? <img class="thumb" src={v.thumbnail} alt="" loading="lazy" width={96} height={54} /> : <span class="thumb" aria-hidden="true" />}
                    <button type="button" class="link" onClick={() => props.onOpen(v.videoId)}>
                      {videoName(v.key)}
                    </button>
                  </div>
                </td>
                <td class={`st st-${v.status}`}>
                  {v.status === 'processing' && v.clipsTotal ? <progress max={v.clipsTotal} value={v.clipsDone} aria-hidden="true" /> : null}
                  <span data-testid="status">{v.status === 'failed' ? 'failed' : statusText(v)}</span>
                  {v.status === 'failed' && (
                    <span class="why" data-testid="failure">
                      {failureText(v)}
                    </span>
                  )}
                  {props.manage && (v.status === 'failed' || v.status === 'indexed') && (
                    <span class="row-actions">
                      {v.status === 'failed' && (
                        <button type="button" onClick={() => void retry(v)} aria-label={`Retry ${videoName(v.key)}`}>
                          Retry
                        </button>
                      )}
                      <button type="button" onClick={() => remove(v)} aria-label={`Delete ${videoName(v.key)}`}>
                        Delete
                      </button>
                    </span>
                  )}
                  {said[v.videoId] && (
                    <span class="why" role="status">
                      {said[v.videoId]}
                    </span>
                  )}
                </td>
                <td data-label="Length">{v.duration !== undefined ? `${v.duration.toFixed(1)} s` : '–'}</td>
                <td data-label="Uploaded">{v.createdAt ? new Date(v.createdAt).toLocaleString() : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface Sending {
  name: string;
  fraction: number;
  started?: boolean;
  error?: string;
  done?: boolean;
}

function Upload(props: { api: Api; onUploaded(): void }) {
  const [over, setOver] = useState(false);
  const [sending, setSending] = useState<Sending[]>([]);

  const send = async (files: FileList | null) => {
    const list = Array.from(files ?? []);
    // Every file of the drop is listed at once, waiting its turn.
    setSending((all) => [...all.filter((x) => !list.some((f) => f.name === x.name)), ...list.map((f) => ({ name: f.name, fraction: 0 }))]);
    for (const file of list) {
      const update = (s: Partial<Sending>) => setSending((all) => all.map((x) => (x.name === file.name ? { ...x, ...s } : x)));
      update({ started: true });
      try {
        await uploadFile(props.api, file, (fraction) => update({ fraction }));
        update({ fraction: 1, done: true });
        props.onUploaded();
      } catch (e) {
        update({ error: isUnreachable(e) ? 'no answer from the server' : (e as Error).message });
      }
    }
  };

  return (
    <div
      class={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void send(e.dataTransfer?.files ?? null);
      }}
    >
      <p>Drop videos here to index them, or</p>
      <label class="pick">
        choose files
        <input type="file" accept="video/*,image/gif" multiple onChange={(e) => void send(e.currentTarget.files)} />
      </label>
      {sending.length > 0 && (
        <ul class="sending" aria-live="polite">
          {sending.map((s) => (
            <li key={s.name} data-file={s.name} class={s.error ? 'error' : undefined}>
              <span class="file">{s.name}</span>:{' '}
              {s.error ? (
                <span role="alert">failed: {s.error}</span>
              ) : s.done ? (
                'uploaded (status below)'
              ) : s.started ? (
                <>
                  <progress max={1} value={s.fraction} aria-label={`upload of ${s.name}`} /> {Math.round(s.fraction * 100)} %
                </>
              ) : (
                'waiting'
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
