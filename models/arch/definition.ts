import type { NetworkSink } from './network.ts';

export interface ModelInput {
  name: string;
  /** T of the NCTHW input. */
  frames: number;
  /** H = W of the NCTHW input; null when the graph takes any H and W. */
  size: number | null;
}

export interface ArchitectureDefinition {
  /** Graph inputs, in graph order. */
  inputs: ModelInput[];
  /** Visits every module in PyTorch registration order (= state-dict order). */
  walk<V>(net: NetworkSink<V>): void;
}
