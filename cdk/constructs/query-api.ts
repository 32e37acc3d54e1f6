import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { VidxConfig } from '../config.ts';

/** The query Lambda's routes (ARCHITECTURE.md, "Query API"); all GET. */
export const QUERY_ROUTES = ['/actions', '/search', '/videos', '/videos/{id}', '/videos/{id}/timeline', '/videos/{id}/media', '/upload-url', '/upload-parts'] as const;

export interface QueryApiProps {
  readonly handler: lambda.IFunction;
  readonly authorizer: VidxConfig['authorizer'];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly corsAllowedOrigins: readonly string[];
  readonly logRetentionDays: number;
}

/**
 * HTTP API (v2) in front of the query Lambda: every route authorized (IAM/SigV4 by default, or a
 * JWT issuer + audience), a throttled $default stage and JSON access logs in a log group.
 */
export class QueryApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: QueryApiProps) {
    super(scope, id);
    const authorizer =
      props.authorizer.type === 'jwt'
        ? new HttpJwtAuthorizer('JwtAuthorizer', props.authorizer.issuer, { jwtAudience: props.authorizer.audience })
        : new HttpIamAuthorizer();

    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'vidx query API: action search and video timelines',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      corsPreflight: {
        allowOrigins: [...props.corsAllowedOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET],
        allowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetentionDays as logs.RetentionDays, // numeric enum of days, validated in config
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.caller',
            user: '$context.identity.userArn',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('Query', props.handler, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    for (const path of QUERY_ROUTES) {
      this.api.addRoutes({ path, methods: [apigw.HttpMethod.GET], integration });
    }
  }

  /** https://<id>.execute-api.<region>.amazonaws.com/ */
  get url(): string {
    const url = this.stage.url;
    if (!url) throw new Error('the query API stage has no URL');
    return url;
  }
}
