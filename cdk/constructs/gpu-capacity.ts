import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';

export interface GpuCapacityProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** In order of preference; the first is the launch template's default. */
  readonly instanceTypes: readonly string[];
  readonly spot: boolean;
  readonly maxInstances: number;
  readonly rootVolumeGiB: number;
}

/**
 * An ECS cluster whose capacity is GPU instances on the ECS GPU-optimized AMI, in an Auto Scaling
 * group that starts at 0 and that ECS managed scaling grows when tasks need a GPU and shrinks to 0
 * when none runs. Spot is optional (price-capacity-optimized, spot draining on).
 */
export class GpuCapacity extends Construct {
  readonly cluster: ecs.Cluster;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly capacityProvider: ecs.AsgCapacityProvider;

  constructor(scope: Construct, id: string, props: GpuCapacityProps) {
    super(scope, id);
    const [defaultType] = props.instanceTypes;
    if (!defaultType) throw new Error('at least one GPU instance type is required');

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED, // RunningTaskCount feeds the backlog-per-task policy
    });

    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'vidx GPU workers: no inbound; outbound HTTPS to AWS APIs and ECR',
      allowAllOutbound: true,
    });
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'ECS container instance role (agent registration, image pull); tasks get their own role',
    });

    const userData = ec2.UserData.forLinux(); // ECS adds ECS_CLUSTER=... to it
    if (props.spot) {
      // CDK adds this only for legacy spotPrice groups, not for a mixed-instances policy: on a spot
      // interruption notice the agent drains the instance, so the worker gets SIGTERM and releases its clips.
      userData.addCommands('echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config');
    }
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
      instanceType: new ec2.InstanceType(defaultType),
      role,
      securityGroup,
      userData,
      requireImdsv2: true, // hop limit 1: containers cannot borrow the instance role
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      minCapacity: 0,
      maxCapacity: props.maxInstances,
      mixedInstancesPolicy: {
        launchTemplate,
        launchTemplateOverrides: props.instanceTypes.map((t) => ({ instanceType: new ec2.InstanceType(t) })),
        instancesDistribution: {
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: props.spot ? 0 : 100,
          spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
        },
      },
      capacityRebalance: props.spot,
    });

    this.capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      minimumScalingStepSize: 1,
      maximumScalingStepSize: Math.max(1, props.maxInstances),
      instanceWarmupPeriod: 300,
      enableManagedTerminationProtection: true,
    });
    this.cluster.addAsgCapacityProvider(this.capacityProvider);

    acknowledge(
      role,
      {
        id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
        reason: 'Added by ECS for the container agent (ecs:SubmitTaskStateChange etc.), scoped to this cluster by CDK.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Added by ECS for the container agent: ecs:DiscoverPollEndpoint and ecr:GetAuthorizationToken (and the log calls of the agent) support no resource scoping.',
      },
    );
    acknowledge(
      this.autoScalingGroup,
      {
        id: 'AwsSolutions-AS3',
        reason: 'ECS managed scaling drives this group; its activity shows in ECS service events and on the dashboard, no SNS notification needed.',
      },
      {
        id: 'AwsSolutions-EC26',
      reason: 'The root volume is encrypted in the launch template (BlockDeviceMappings Encrypted: true, asserted in test/cdk); the rule only reads launch configurations.',
      },
    );
  }
}
