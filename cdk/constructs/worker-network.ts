import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface WorkerNetworkProps {
  readonly maxAzs: number;
  /** 0: GPU instances in public subnets (no NAT cost, no inbound rules); > 0: private subnets behind NAT. */
  readonly natGateways: number;
  readonly logRetentionDays: number;
}

/**
 * The VPC the GPU workers run in, with gateway endpoints for S3 and DynamoDB (their bulk traffic
 * stays off NAT and the internet) and a log of rejected traffic.
 */
export class WorkerNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Where the worker instances go: private subnets when there is NAT, public ones otherwise. */
  readonly workerSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: WorkerNetworkProps) {
    super(scope, id);
    // id 'Default': CDK leaves it out of logical ids, so the VPC and its subnets keep the ids they
    // had when the stack created the VPC directly (a new id would replace the whole network).
    this.vpc = new ec2.Vpc(this, 'Default', {
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      subnetConfiguration:
        props.natGateways > 0
          ? [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
            ]
          : [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    this.workerSubnets = { subnetType: props.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC };
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetentionDays as logs.RetentionDays }); // numeric enum of days
    this.vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }
}
