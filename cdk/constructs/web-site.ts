import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, Duration, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { WEB_CONFIG_FILE, type WebConfig } from '../../core/web-config.ts';
import { buildWebInto } from '../../web/build.ts';
import { acknowledge, logicalIdOf } from '../nag.ts';

/** The id aws-cdk-lib gives the BucketDeployment handler (one per stack). */
const BUCKET_DEPLOYMENT_HANDLER = 'Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C';

/** What the page's token may do: sign in and read the user's id (the API checks the access token). */
export const WEB_SCOPES = ['openid', 'email'] as const;

export interface WebSiteProps {
  /** Bucket (ACLs enabled) that receives CloudFront's standard logs under `cloudfront/`. */
  readonly logBucket: s3.IBucket;
  /** Cognito hosted UI domain prefix (https://<prefix>.auth.<region>.amazoncognito.com). */
  readonly domainPrefix: string;
  readonly retainData: boolean;
}

/**
 * The web page, deployed (opt-in `web: true`): a private bucket served only through CloudFront
 * (origin access control, HTTPS only, security headers) and a Cognito user pool whose hosted UI
 * signs people in; its access tokens are what the HTTP API's JWT authorizer accepts
 * (`authorizer`). `deployPage(apiUrl)` uploads the bundle and its config.json.
 */
export class WebSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: WebSiteProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Page', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 'web-bucket/',
      // The page is rebuilt from the repository at every deploy: nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const region = Stack.of(this).region;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'vidx web page: CSP (own origin, the API, S3 presigned media, Cognito), HSTS, no framing, no sniffing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            // The API, sign-in, and S3 itself: uploads PUT to presigned URLs, GIFs are fetched to decode.
            `connect-src 'self' https://*.execute-api.${region}.amazonaws.com https://*.auth.${region}.amazoncognito.com https://*.s3.${region}.amazonaws.com https://*.s3.amazonaws.com`,
            `img-src 'self' data: https://*.s3.${region}.amazonaws.com https://*.s3.amazonaws.com`,
            `media-src 'self' https://*.s3.${region}.amazonaws.com https://*.s3.amazonaws.com`,
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
          ].join('; '),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'vidx web page',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    acknowledge(
      this.distribution,
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The page is for the deployment\'s own signed-in users wherever they are; access is controlled by Cognito, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason: 'Static files only, read-only (GET/HEAD) from a private bucket; the API behind the page has its own throttling and JWT authorizer. A WAF web ACL can be attached where an organisation requires one.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The distribution uses its default *.cloudfront.net certificate, where CloudFront fixes the viewer TLS policy; minimumProtocolVersion TLSv1.2_2021 applies once a custom domain and certificate are added.',
      },
    );

    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${Stack.of(this).stackName}-users`,
      selfSignUpEnabled: false, // an administrator invites people
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const plus = 'Threat protection (the Plus feature plan) is billed per user; invite-only sign-up with required MFA covers this small internal tool. Enable it where policy requires.';
    acknowledge(this.userPool, { id: 'AwsSolutions-COG3', reason: plus }, { id: 'AwsSolutions-COG8', reason: plus });
    const pageUrl = `https://${this.distribution.distributionDomainName}/`;
    this.client = this.userPool.addClient('PageClient', {
      userPoolClientName: 'vidx-web',
      generateSecret: false, // a browser cannot keep a secret: authorization code + PKCE
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [pageUrl],
        logoutUrls: [pageUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
      preventUserExistenceErrors: true,
    });
    this.domain = this.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix: props.domainPrefix } });
  }

  /** https://<id>.cloudfront.net: the page's origin (CORS of the API and of the video bucket). */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** The API's JWT authorizer settings: this pool's tokens for this page's client. */
  get authorizer(): { type: 'jwt'; issuer: string; audience: string[] } {
    return {
      type: 'jwt',
      issuer: `https://cognito-idp.${Aws.REGION}.amazonaws.com/${this.userPool.userPoolId}`,
      audience: [this.client.userPoolClientId],
    };
  }

  /** Builds the page (esbuild, at synth) and deploys it with the config.json that points it at the API. */
  deployPage(apiUrl: string): s3deploy.BucketDeployment {
    // Built inside the cloud assembly (cdk.out), which the next synth replaces: a folder in the
    // system temp dir would be left behind by every synth. The asset is staged from it by hash.
    const stage = Stage.of(this);
    if (!stage) throw new Error('WebSite must be created inside a CDK app (its page is built into the cloud assembly)');
    const dir = join(stage.outdir, `vidx-web-${this.node.addr}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    buildWebInto(dir);
    const config: WebConfig = {
      apiUrl,
      auth: { domain: this.domain.baseUrl(), clientId: this.client.userPoolClientId, scopes: [...WEB_SCOPES] },
    };
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [s3deploy.Source.asset(dir), s3deploy.Source.jsonData(WEB_CONFIG_FILE, config)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
    });
    this.acknowledgeDeployment();
    return deployment;
  }

  /** aws-cdk-lib's BucketDeployment handler (a stack-level singleton): its grants, managed policy and runtime. */
  private acknowledgeDeployment(): void {
    const handler = Stack.of(this).node.tryFindChild(BUCKET_DEPLOYMENT_HANDLER);
    if (!handler) return;
    const why = 'aws-cdk-lib\'s BucketDeployment handler copies the page from the CDK asset bucket into the page bucket and invalidates the distribution at deploy time; its policy and runtime are aws-cdk-lib\'s.';
    acknowledge(
      handler,
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: why },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: why })),
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', reason: why },
      { id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(this.bucket)}.Arn>/*]`, reason: why },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: `${why} CloudFront invalidations cannot be scoped to a distribution by resource in that policy.` },
      { id: 'AwsSolutions-L1', reason: why },
    );
  }
}
