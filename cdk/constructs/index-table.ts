import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CLIP_PAYLOAD_PREFIX } from '../../core/names.ts';
import { KEYS, TABLE_DEFINITION, type AttributeType, type Projection } from '../../adapters/dynamo-index/layout.ts';

const ATTRIBUTE_TYPES: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function projectionOf(p: Projection): { projectionType: dynamodb.ProjectionType; nonKeyAttributes?: string[] } {
  if (p.type === 'INCLUDE') return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...p.attributes] };
  return { projectionType: p.type === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY };
}

export interface IndexTableProps {
  readonly retainData: boolean;
  /** Write shards per label (every process that reads or writes the index gets it in its settings). */
  readonly labelShards: number;
}

/** The index table, mapped from adapters/dynamo-index/layout.ts (the local stack's source too). */
export class IndexTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARN of the listing and label index, for Query grants. */
  readonly labelIndexArn: string;
  /** ARN of the sparse index of unfinished videos (the sweeper's), for Query grants. */
  readonly unfinishedIndexArn: string;
  readonly labelShards: number;

  constructor(scope: Construct, id: string, props: IndexTableProps) {
    super(scope, id);
    const def = TABLE_DEFINITION;
    this.table = new dynamodb.Table(this, 'Table', {
      // No physical name: the real name reaches the code through VIDX_TABLE, and stacks can coexist.
      partitionKey: { name: def.partitionKey.name, type: ATTRIBUTE_TYPES[def.partitionKey.type] },
      sortKey: { name: def.sortKey.name, type: ATTRIBUTE_TYPES[def.sortKey.type] },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const gsi of def.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.name,
        partitionKey: { name: gsi.partitionKey.name, type: ATTRIBUTE_TYPES[gsi.partitionKey.type] },
        sortKey: { name: gsi.sortKey.name, type: ATTRIBUTE_TYPES[gsi.sortKey.type] },
        ...projectionOf(gsi.projection),
      });
    }
    this.labelIndexArn = `${this.table.tableArn}/index/${KEYS.list.name}`;
    this.unfinishedIndexArn = `${this.table.tableArn}/index/${KEYS.unfinished.name}`;
    this.labelShards = props.labelShards;
  }

  /** Objects of the large clip payloads in the video bucket (the worker writes them; the others read or remove them). */
  static payloadObjects(bucket: { arnForObjects(pattern: string): string }): string {
    return bucket.arnForObjects(`${CLIP_PAYLOAD_PREFIX}*`);
  }
}
