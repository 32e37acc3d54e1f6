/// <reference lib="dom" />
/**
 * The vidx page: search the index, watch the moment, see each video's timeline, upload videos.
 * Talks only to the query API (and, deployed, Cognito's hosted UI); everything is served by vidx.
 */
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { VideoView } from '../core/query/responses.ts';
import type { WebConfig } from '../core/web-config.ts';
import { Api, loadConfig } from './api.ts';
import { completeSignIn, currentToken, signIn, signOut } from './auth.ts';
import { Player, type Opened } from './player.tsx';
import { Results, SearchBox } from './search.tsx';
import { Videos } from './videos.tsx';

function App(props: { config: WebConfig }) {
  const { config } = props;
  const api = useMemo(() => new Api(config.apiUrl, currentToken), [config]);
  const [query, setQuery] = useState<string>();
  const [opened, setOpened] = useState<Opened>();
  const [videos, setVideos] = useState<VideoView[]>([]);
  const auth = config.auth;

  if (auth && !currentToken()) {
    return (
      <main class="signin">
        <h1>vidx</h1>
        <p>Sign in to search and upload videos.</p>
        <button type="button" onClick={() => void signIn(auth)}>
          Sign in
        </button>
      </main>
    );
  }
  const untrained = videos.filter((v) => v.trained === false);
  return (
    <>
      <header>
        <h1>vidx</h1>
        <p class="tag">find actions in video</p>
        {auth && (
          <button type="button" class="signout" onClick={() => signOut(auth)}>
            Sign out
          </button>
        )}
      </header>
      {untrained.length > 0 && (
        <p class="untrained" role="note">
          <strong>Untrained model.</strong> {untrained.length === videos.length ? 'These videos were' : `${untrained.length} of these videos were`} indexed with synthetic weights
          ({untrained[0]!.model ?? 'model'}), so the action labels mean nothing; they show the pipeline working. For real labels: <code>npx vidx models pull {untrained[0]!.model ?? 'slowfast_r50'}</code>, restart and upload again.
        </p>
      )}
      <main class={opened ? 'with-player' : ''}>
        <div class="find">
          <SearchBox api={api} onSearch={setQuery} />
          <Results api={api} query={query} onOpen={(m) => setOpened({ videoId: m.videoId, moment: { label: m.label, start: m.start, end: m.end } })} />
        </div>
        {opened && <Player api={api} opened={opened} onClose={() => setOpened(undefined)} />}
        <Videos api={api} onOpen={(videoId) => setOpened({ videoId })} onList={setVideos} />
      </main>
    </>
  );
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const config = await loadConfig();
    if (config.auth) await completeSignIn(config.auth);
    root.textContent = ''; // the "Loading" line
    render(<App config={config} />, root);
  } catch (e) {
    root.textContent = `vidx could not start: ${(e as Error).message}`;
  }
}

void start();
