import { MemoryVectorIndex } from '../../core/vectors/memory.ts';
import { vectorIndexContract } from './contract.ts';

vectorIndexContract('in memory', async () => ({ index: new MemoryVectorIndex(), close: async () => {} }));
