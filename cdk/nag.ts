/**
 * cdk-nag 3 acknowledgements go through CDK's Validations API; each finding is acknowledged by its
 * exact id (`AwsSolutions-IAM5[Resource::<LogicalId.Arn>/videos/*]`), with the reason beside it.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Acknowledge findings on a construct and everything below it. */
export function acknowledge(scope: IConstruct, ...findings: Acknowledgement[]): void {
  Validations.of(scope).acknowledge(...findings);
}

/** A resource's logical id as cdk-nag prints it inside IAM5 finding ids. */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

