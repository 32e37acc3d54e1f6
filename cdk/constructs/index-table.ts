import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_DEFINITION, type AttributeType } from '../../core/infra-definitions.ts';

const ATTRIBUTE_TYPES: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

export interface IndexTableProps {
  readonly retainData: boolean;
}

/** The index table of ARCHITECTURE.md, mapped from core/infra-definitions.ts (the local stack's source too). */
export class IndexTable extends Construct {
  readonly table: dynamodb.Table;
  /** ARN of the label index (GSI1), for Query grants. */
  readonly labelIndexArn: string;

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
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    const labelIndex = def.globalSecondaryIndexes[0];
    if (!labelIndex) throw new Error('TABLE_DEFINITION has no label index');
    this.labelIndexArn = `${this.table.tableArn}/index/${labelIndex.name}`;
  }
}
