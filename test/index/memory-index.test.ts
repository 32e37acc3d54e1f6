import { InMemoryIndex } from '../../core/index/memory.ts';
import { indexContract } from './contract.ts';

indexContract('in memory', async () => {
  const clock = { now: new Date('2026-12-04T10:00:00.000Z') };
  return { index: new InMemoryIndex(() => clock.now), clock };
});
