/**
 * The opt-in web deployment (`web: true`): the page in a private bucket behind CloudFront (origin
 * access control, HTTPS, security headers), Cognito sign-in whose tokens the HTTP API's JWT
 * authorizer accepts, the page and its config.json deployed; cdk-nag clean. One synthesis.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../core/names.ts';
import { QUERY_POST_ROUTES, QUERY_ROUTES } from '../../cdk/constructs/query-api.ts';
import { synthesize, type Synthesized } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

let s: Synthesized;
let t: Template;
let resources: Resources;

/** What a synth left in the system temp folder besides its own cloud assembly. */
let leftInTmp: string[];
let privateTmp: string;
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

beforeAll(() => {
  // A private TMPDIR for this synth, so other processes' temp files cannot blur what it leaves.
  const previousTmp = process.env.TMPDIR;
  privateTmp = mkdtempSync(join(tmpdir(), 'vidx-tmp-check-'));
  process.env.TMPDIR = privateTmp;
  try {
    // The generated segmenter manifest and the web page: both are written at synth.
    s = synthesize({ web: true, webDomainPrefix: 'vidx-test-page', modelManifest: 'generated' });
  } finally {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
  }
  leftInTmp = readdirSync(privateTmp).filter((name) => join(privateTmp, name) !== s.outdir);
  t = s.template;
  resources = t.toJSON().Resources as Resources;
}, 300_000);

const idsOf = (type: string, prefix = '') => Object.entries(resources).filter(([id, r]) => r.Type === type && id.startsWith(prefix)).map(([id]) => id);
function only(type: string, prefix = ''): string {
  const ids = idsOf(type, prefix);
  expect(ids, `one ${type} ${prefix}`).toHaveLength(1);
  return ids[0]!;
}

describe('web: true', () => {
  it('a synth writes the page and the generated manifest into its cloud assembly and leaves nothing in the temp folder', () => {
    expect(leftInTmp).toEqual([]);
    expect(readdirSync(s.outdir).filter((name) => /^vidx-(web|segmenter-manifest)/.test(name)).length).toBe(2);
  });

  it('passes cdk-nag AwsSolutions with every remaining finding acknowledged in code', () => {
    expect(s.nagViolations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('keeps the page in a private bucket that only this distribution reads, through origin access control', () => {
    const page = only('AWS::S3::Bucket', 'WebPage');
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.anyValue(),
    });
    const oac = only('AWS::CloudFront::OriginAccessControl');
    expect(resources[oac]!.Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const dist = only('AWS::CloudFront::Distribution');
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: page }))!;
    const grants = (policy.Properties.PolicyDocument as { Statement: { Effect: string; Principal?: unknown; Action: unknown; Condition?: unknown }[] }).Statement.filter((st) => st.Effect === 'Allow');
    const cloudfront = grants.filter((g) => JSON.stringify(g.Principal) === JSON.stringify({ Service: 'cloudfront.amazonaws.com' }));
    expect(cloudfront.length).toBeGreaterThan(0);
    for (const g of cloudfront) expect(JSON.stringify(g.Condition)).toContain(dist);
    // The only other reader: aws-cdk-lib's auto-delete handler, which empties the bucket on stack deletion.
    for (const g of grants.filter((x) => !cloudfront.includes(x))) {
      expect(JSON.stringify(g.Principal)).toContain('CustomS3AutoDeleteObjects');
      expect([g.Action].flat().every((a) => /^s3:(DeleteObject|List|GetBucket|PutBucketPolicy)/.test(String(a)))).toBe(true);
    }
  });

  it('serves HTTPS only, with security headers (CSP, HSTS, no framing, no sniffing) and access logs', () => {
    const dist = resources[only('AWS::CloudFront::Distribution')]!.Properties.DistributionConfig as Record<string, unknown>;
    expect(dist).toMatchObject({ DefaultRootObject: 'index.html', Enabled: true, Logging: { Prefix: 'cloudfront/' } });
    const behavior = dist.DefaultCacheBehavior as Record<string, unknown>;
    expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: only('AWS::CloudFront::ResponseHeadersPolicy') });
    const headers = (resources[only('AWS::CloudFront::ResponseHeadersPolicy')]!.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
    expect(JSON.stringify(headers.ContentSecurityPolicy!.ContentSecurityPolicy)).toContain("default-src 'self'");
    expect(JSON.stringify(headers.ContentSecurityPolicy!.ContentSecurityPolicy)).toContain("frame-ancestors 'none'");
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: 31_536_000, Override: true });
    expect(headers.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(headers.ContentTypeOptions).toMatchObject({ Override: true });
  });

  it('signs people in with a Cognito hosted UI: invite only, MFA, code flow with PKCE (no client secret) back to the page', () => {
    const pool = only('AWS::Cognito::UserPool');
    expect(resources[pool]!.Properties).toMatchObject({ AdminCreateUserConfig: { AllowAdminCreateUserOnly: true }, MfaConfiguration: 'ON' });
    const client = resources[only('AWS::Cognito::UserPoolClient')]!.Properties;
    expect(client).toMatchObject({ AllowedOAuthFlows: ['code'], AllowedOAuthFlowsUserPoolClient: true, GenerateSecret: false, SupportedIdentityProviders: ['COGNITO'] });
    expect(client.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid', 'email']));
    expect(JSON.stringify(client.CallbackURLs)).toContain(only('AWS::CloudFront::Distribution'));
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'vidx-test-page' });
  });

  it('guards every API route with a JWT authorizer for that pool and client, and lets the page call it (CORS)', () => {
    const authorizer = resources[only('AWS::ApiGatewayV2::Authorizer')]!.Properties;
    expect(authorizer.AuthorizerType).toBe('JWT');
    const jwt = authorizer.JwtConfiguration as { Audience: unknown[]; Issuer: unknown };
    expect(jwt.Audience).toEqual([{ Ref: only('AWS::Cognito::UserPoolClient') }]);
    expect(JSON.stringify(jwt.Issuer)).toContain('cognito-idp');
    expect(JSON.stringify(jwt.Issuer)).toContain(only('AWS::Cognito::UserPool'));
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.length).toBe(QUERY_ROUTES.length + QUERY_POST_ROUTES.length);
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('JWT');
    const api = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Api')!;
    expect(JSON.stringify((api.Properties.CorsConfiguration as { AllowOrigins: unknown }).AllowOrigins)).toContain(only('AWS::CloudFront::Distribution'));
  });

  it('lets the page PUT uploads into and play videos from the video bucket (CORS), through URLs the query API signs', () => {
    const videos = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('StorageVideos'))![1];
    expect(JSON.stringify(videos.Properties.CorsConfiguration)).toContain(only('AWS::CloudFront::Distribution'));
    const fn = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('QueryFunction'))![1];
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env[ENV.bucket]).toBeDefined();
  });

  it('deploys the bundled page and a config.json naming the API and the sign-in, and prints the page URL', () => {
    const deploy = Object.values(resources).find((r) => r.Type === 'Custom::CDKBucketDeployment')!;
    expect(deploy.Properties.Prune).toBe(true);
    expect(JSON.stringify(deploy.Properties.DistributionPaths)).toContain('/*');
    const markers = JSON.stringify(deploy.Properties.SourceMarkers);
    expect(markers).toContain(only('AWS::Cognito::UserPoolClient')); // config.json's clientId
    const staged = readdirSync(s.outdir).filter((d) => d.startsWith('asset.') && existsSync(join(s.outdir, d, 'app.js')));
    expect(staged).toHaveLength(1);
    for (const f of ['index.html', 'app.js', 'app.css']) expect(existsSync(join(s.outdir, staged[0]!, f)), f).toBe(true);
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.WebUrl!.Value)).toContain(only('AWS::CloudFront::Distribution'));
    expect(outputs.WebUserPoolId).toBeDefined();
  });
});
