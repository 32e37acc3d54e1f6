/// <reference lib="dom" />
/**
 * The vidx page: search the index, watch the moment, see each video's timeline, upload videos.
 * Talks only to the query API (and, deployed, Cognito's hosted UI); everything is served by vidx.
 * A link `?video=&t=[&person=]` opens on that moment (web/links.ts).
 */
import './zod-config.ts';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VideoView } from '../core/query/responses.ts';
import type { WebConfig } from '../core/web-config.ts';
import { Api, UNREACHABLE_MESSAGE, loadConfig } from './api.ts';
import { completeSignIn, currentToken, signIn, signOut } from './auth.ts';
import { momentQuery, parseMomentLink } from './links.ts';
import { Player, type Opened } from './player.tsx';
import { Results, SearchBox } from './search.tsx';
import { Videos } from './videos.tsx';

/** The model the page speaks of: the server's own when it says, else the newest video's. */
function modelOf(config: WebConfig, videos: readonly VideoView[]): { architecture: string; trained: boolean } | undefined {
  if (config.model) return config.model;
  const v = videos.find((x) => x.model !== undefined && x.trained !== undefined);
  return v ? { architecture: v.model!, trained: v.trained! } : undefined;
}

function ModelStatus(props: { model: { architecture: string; trained: boolean } | undefined }) {
  const m = props.model;
  if (!m) return <p class="model">Model: not known until a video is indexed</p>;
  return (
    <p class={`model ${m.trained ? 'trained' : 'synthetic'}`} data-testid="model-status">
      Model: {m.architecture} · {m.trained ? 'trained (Kinetics-400)' : 'synthetic weights'}
    </p>
  );
}

function Intro() {
  return (
    <section class="intro" aria-labelledby="intro-title">
      <h2 id="intro-title">Find the moments in your videos</h2>
      <p>vidx watches each video you give it with an action-recognition model and builds a timeline of what happens when: “playing cricket, 12.0 s to 18.4 s”. Then you search every video at once and jump straight to the moment.</p>
      <ol>
        <li>Drop a video below (or choose a file). It is uploaded and indexed here, a few clips at a time.</li>
        <li>When it says <em>indexed</em>, search for an action, for example “cricket”.</li>
        <li>Open a result to play it from that moment, see its timeline, export it or copy a link to it.</li>
      </ol>
    </section>
  );
}

function openedFromLink(): Opened | undefined {
  const link = parseMomentLink(location.search);
  return link ? { videoId: link.video, at: link.t, ...(link.person !== undefined ? { person: link.person } : {}) } : undefined;
}

function App(props: { config: WebConfig }) {
  const { config } = props;
  const api = useMemo(() => new Api(config.apiUrl, currentToken), [config]);
  const [query, setQuery] = useState<string>();
  const [opened, setOpened] = useState<Opened | undefined>(openedFromLink);
  const [videos, setVideos] = useState<VideoView[]>();
  const [reachable, setReachable] = useState(true);
  const auth = config.auth;
  useEffect(() => {
    api.onReach = setReachable;
  }, [api]);
  // The address bar names the moment on screen, so it can be shared or bookmarked as is.
  const open = (o: Opened | undefined) => {
    setOpened(o);
    const at = o?.at ?? o?.moment?.start;
    history.replaceState(null, '', o ? momentQuery({ video: o.videoId, t: at ?? 0, person: o.person }) : location.pathname);
  };

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
  const model = modelOf(config, videos ?? []);
  const empty = videos !== undefined && videos.length === 0;
  return (
    <>
      <header>
        <div class="topbar">
          <div class="brand">
            <h1>vidx</h1>
            <p class="tag">find actions in video</p>
          </div>
          <ModelStatus model={model} />
          {auth && (
            <button type="button" class="signout" onClick={() => signOut(auth)}>
              Sign out
            </button>
          )}
        </div>
        {model && !model.trained && (
          <p class="untrained" role="note">
            <strong>Untrained model.</strong> Videos are indexed with synthetic weights ({model.architecture}), so the action labels mean nothing; they show the pipeline working. For real labels: <code>npx vidx models pull {model.architecture}</code>, restart and upload again.
          </p>
        )}
      </header>
      <main class={opened ? 'with-player' : ''}>
        {!reachable && (
          <p class="offline" role="alert" data-testid="offline">
            {UNREACHABLE_MESSAGE}
          </p>
        )}
        {empty && <Intro />}
        {!empty && (
          <div class="find">
            <SearchBox api={api} onSearch={setQuery} />
            <Results
              api={api}
              query={query}
              videos={videos ?? []}
              onOpen={(m) => open({ videoId: m.videoId, moment: { label: m.label, start: m.start, end: m.end }, ...(m.person !== undefined ? { person: m.person } : {}) })}
            />
          </div>
        )}
        {opened && <Player api={api} opened={opened} onClose={() => open(undefined)} onMoved={(o) => history.replaceState(null, '', momentQuery(o))} />}
        <Videos api={api} manage={config.manage === true} onOpen={(videoId) => open({ videoId })} onList={setVideos} onClosed={(id) => opened?.videoId === id && open(undefined)} />
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
