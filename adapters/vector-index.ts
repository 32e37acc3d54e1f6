/**
 * The vector index a process's settings name: the embedded store over files (`vidx local`, tests)
 * or Amazon S3 Vectors (the deployed stack), or none.
 */
import { VidxError } from '../core/errors.ts';
import { VECTOR_KEYS_PREFIX } from '../core/names.ts';
import type { VectorIndex } from '../core/vectors/port.ts';
import { createS3VectorsClient, type AwsClients } from './clients.ts';
import { LocalVectorIndex } from './local-vectors.ts';
import { S3VectorsIndex, vectorIndexNames } from './s3-vectors.ts';

export interface VectorSettings {
  vectorsDir?: string | undefined;
  vectorBucket?: string | undefined;
  /** The video bucket (holds S3 Vectors' per-part key lists). */
  bucket?: string | undefined;
}

export function vectorIndexOf(s: VectorSettings, clients: Pick<AwsClients, 's3' | 'config'>, onDamaged?: (e: VidxError) => void): VectorIndex | undefined {
  if (s.vectorsDir) return new LocalVectorIndex(s.vectorsDir, onDamaged);
  if (!s.vectorBucket) return undefined;
  if (!s.bucket) {
    throw new VidxError('WORKER_CONFIG', 'a vector bucket needs the video bucket too (it keeps the vector index\'s key lists)', { hint: 'set VIDX_BUCKET beside VIDX_VECTOR_BUCKET' });
  }
  return new S3VectorsIndex(createS3VectorsClient(clients.config, clients.config.endpoint), clients.s3, {
    vectorBucket: s.vectorBucket,
    indexes: vectorIndexNames(),
    manifestBucket: s.bucket,
    manifestPrefix: VECTOR_KEYS_PREFIX,
  });
}
