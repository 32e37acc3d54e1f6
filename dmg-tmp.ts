import { mkdtempSync, writeFileSync, readdirSync, statSync, truncateSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startTestStack } from './test/helpers/emulators.ts';
const dir = mkdtempSync(join(tmpdir(), 'dmg-'));
const p = join(dir, 'dynamodb');
let s = await startTestStack({ dynamoPath: p });
for (let i = 0; i < 300; i++) await s.store.markNotified('x'+i, 'e', 'f').catch(() => undefined);
await s.stop();
console.log(readdirSync(p).map(f => `${f}:${statSync(join(p,f)).size}`));
const mode = process.argv[2];
if (mode === 'current') writeFileSync(join(p, 'CURRENT'), 'junk\n');
if (mode === 'ldb') { for (const f of readdirSync(p)) if (f.endsWith('.ldb') || f.endsWith('.log')) { truncateSync(join(p, f), Math.floor(statSync(join(p,f)).size/2)); console.log('trunc', f); } }
try { s = await startTestStack({ dynamoPath: p }); console.log('started'); console.log(await s.store.listVideos().then(v => v.length, e => 'ERR ' + e)); await s.stop(); } catch (e) { console.log('START ERR', e); }
