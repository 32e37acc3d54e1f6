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
  /** The canonical implementation whose state dict and outputs this reproduces (for the ONNX doc string). */
  origin?: string;
  /**
   * Module paths (prefixes) registered before the rest, whatever the forward order: their keys
   * lead the state dict although the walk, which follows the data, reaches them last.
   */
  registeredFirst?: readonly string[];
  /**
   * Visits every module in forward (topological) order, which is PyTorch registration order
   * (= state-dict order) apart from `registeredFirst`.
   */
  walk<V>(net: NetworkSink<V>): void;
}
