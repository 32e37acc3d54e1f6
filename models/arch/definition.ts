import type { NetworkSink } from './network.ts';

export interface ModelInput {
  name: string;
  /** T of the NCTHW input. */
  frames: number;
  /** H = W of the NCTHW input. */
  size: number;
}

export interface ArchitectureDefinition {
  /** Graph inputs, in graph order. */
  inputs: ModelInput[];
  /** Visits every module in PyTorch registration order (= state-dict order). */
  walk<V>(net: NetworkSink<V>): void;
}
