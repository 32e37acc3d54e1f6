import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3vectors from 'aws-cdk-lib/aws-s3vectors';
import { Construct } from 'constructs';
import { VECTOR_SPACES, type VectorSpace } from '../../core/vectors/port.ts';

/** Metadata keys no query filters on (adapters/s3-vectors.ts NON_FILTERABLE_METADATA). */
const NON_FILTERABLE_METADATA = ['start', 'end', 'person'];

/** What each role does with vectors: the indexing worker writes and replaces, the query API reads. */
const VECTOR_ACTIONS = {
  write: ['s3vectors:PutVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors'],
  read: ['s3vectors:QueryVectors', 's3vectors:GetVectors'],
} as const;

export interface VectorIndexProps {
  /** Vector length per space: CLIP's 512 for the clip spaces, the action models' pooled features for the others. */
  readonly dimensions: Record<VectorSpace, number>;
  /** Where each part's key list lives (adapters/s3-vectors.ts): the video bucket, under this prefix. */
  readonly manifestBucket: s3.IBucket;
  readonly manifestPrefix: string;
}

/**
 * The vector index of ARCHITECTURE.md "Open questions": one S3 vector bucket (SSE-S3), one cosine
 * index per space. Serverless: storage and queries are billed, idle costs nothing.
 */
export class VectorIndex extends Construct {
  readonly bucket: s3vectors.CfnVectorBucket;
  /** Vector bucket names are unique per account and Region, as stack names are: one follows from the other. */
  readonly bucketName: string;
  readonly indexes: Record<VectorSpace, s3vectors.CfnIndex>;
  private readonly manifestBucket: s3.IBucket;
  private readonly manifestPrefix: string;

  constructor(scope: Construct, id: string, props: VectorIndexProps) {
    super(scope, id);
    this.manifestBucket = props.manifestBucket;
    this.manifestPrefix = props.manifestPrefix;
    this.bucketName = `${Stack.of(this).stackName.toLowerCase()}-vectors`;
    this.bucket = new s3vectors.CfnVectorBucket(this, 'Bucket', { vectorBucketName: this.bucketName, encryptionConfiguration: { sseType: 'AES256' } });
    this.indexes = Object.fromEntries(
      VECTOR_SPACES.map((space) => {
        const index = new s3vectors.CfnIndex(this, space.replace('.', '-'), {
          vectorBucketArn: this.bucket.attrVectorBucketArn,
          indexName: space.replace('.', '-'),
          dataType: 'float32',
          dimension: props.dimensions[space],
          distanceMetric: 'cosine',
          metadataConfiguration: { nonFilterableMetadataKeys: NON_FILTERABLE_METADATA },
        });
        return [space, index];
      }),
    ) as Record<VectorSpace, s3vectors.CfnIndex>;
  }

  grantWrite(grantee: iam.IGrantable): void {
    this.grant(grantee, VECTOR_ACTIONS.write);
    this.manifestBucket.grantReadWrite(grantee, `${this.manifestPrefix}*`);
    this.manifestBucket.grantDelete(grantee, `${this.manifestPrefix}*`);
  }

  grantRead(grantee: iam.IGrantable): void {
    this.grant(grantee, VECTOR_ACTIONS.read);
    this.manifestBucket.grantRead(grantee, `${this.manifestPrefix}*`);
  }

  private grant(grantee: iam.IGrantable, actions: readonly string[]): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: Object.values(this.indexes).map((i) => i.attrIndexArn) });
  }
}
