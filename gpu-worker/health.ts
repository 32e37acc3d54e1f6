/**
 * Health signal for ECS: HTTP GET /health on VIDX_HEALTH_PORT.
 * 200 {"status":"ok",...stats} while the consumer runs and has polled recently (the SDK long
 * poll returns at least every waitTimeSeconds, so a stale lastPollAt means a stuck loop);
 * 503 while draining after SIGTERM, when stopped, or when polling has stalled.
 * ECS container health check: ["CMD-SHELL", "node -e \"fetch('http://127.0.0.1:'+process.env.VIDX_HEALTH_PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerStats } from './worker.ts';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export function healthVerdict(s: WorkerStats, now: number, stallMs: number): { ok: boolean; why: string } {
  if (!s.running) return { ok: false, why: 'stopped' };
  if (s.draining) return { ok: false, why: 'draining' };
  const last = s.lastPollAt ? Date.parse(s.lastPollAt) : Date.parse(s.startedAt);
  // A batch in hand legitimately blocks polling; the heartbeat keeps its messages.
  if (s.inFlight === 0 && now - last > stallMs) return { ok: false, why: `no poll for ${Math.round((now - last) / 1000)} s` };
  return { ok: true, why: 'ok' };
}

export async function startHealthServer(port: number, stats: () => WorkerStats, stallMs = 120_000): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 404, message: 'GET /health only' }));
      return;
    }
    const s = stats();
    const v = healthVerdict(s, Date.now(), stallMs);
    res.writeHead(v.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: v.ok ? 'ok' : 'unhealthy', why: v.why, ...s }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
