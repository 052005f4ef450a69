/**
 * The dashboard: the built single-page app (`web/dist`, from `npm run build:web`) in a private S3
 * bucket, served by CloudFront through origin access control. Unknown paths fall back to
 * `/index.html` (client-side routes), every response carries security headers, and `config.json` tells
 * the app where the API and the WebSocket live — the same file the local runtime serves, so the app has
 * no build-time URLs.
 *
 * Built in two steps because the API's CORS origin is this distribution's URL and `config.json` holds the
 * API's URL: the constructor makes the bucket and the distribution, `publishSite` deploys the files.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  Annotations,
  Aws,
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  Stack,
  type CfnElement,
} from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source, type ISource } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { REPO_ROOT } from './bundling.js';
import { acknowledge, MANAGED_POLICY, nagRef } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

export const WEB_DIST_DIR = path.join(REPO_ROOT, 'web', 'dist');
export const PLACEHOLDER_WARNING_ID = 'leadrouter:dashboard-not-built';
/** Memory of CDK's deployment function (unzipping and uploading the site). */
const DEPLOYMENT_MEMORY_MB = 512;

/** What `config.json` holds; the web app reads it at start. */
export interface SiteConfig {
  apiUrl: string;
  wsUrl: string;
}

export interface DashboardProps {
  readonly config: StageConfig;
  /** Where the built app is; defaults to `web/dist`. */
  readonly webDistDir?: string;
}

export class Dashboard extends Construct {
  readonly bucket: Bucket;
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  private readonly config: StageConfig;
  private readonly webDistDir: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.webDistDir = props.webDistDir ?? WEB_DIST_DIR;
    const disposable = config.removalPolicy === RemovalPolicy.DESTROY;

    // CloudFront standard logs are written with an ACL, hence object-writer ownership on this bucket.
    this.logBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: config.removalPolicy,
      autoDeleteObjects: disposable,
    });
    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3-site/',
      removalPolicy: config.removalPolicy,
      autoDeleteObjects: disposable,
    });

    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `leadrouter ${config.stage} dashboard security headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // connect-src names the regional API Gateway domains rather than the APIs themselves: the API's
          // CORS origin refers to this distribution, and a reference back would be a dependency cycle.
          contentSecurityPolicy: [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            `connect-src 'self' https://*.execute-api.${Aws.REGION}.amazonaws.com wss://*.execute-api.${Aws.REGION}.amazonaws.com`,
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
          ].join('; '),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        // Modern advice: disable the legacy XSS auditor; the CSP above is the protection.
        xssProtection: { protection: false, override: true },
      },
    });

    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `leadrouter ${config.stage} dashboard`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        compress: true,
      },
      additionalBehaviors: {
        // Must never be stale after a deploy moves the API.
        '/config.json': {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: securityHeaders,
        },
      },
      // The bucket is private, so a missing key is a 403 from S3, not a 404: both mean "client route".
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
        ttl: Duration.seconds(10),
      })),
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });

    acknowledge(
      this.logBucket,
      'S1',
      'This bucket receives the access logs of the site bucket and the distribution; logging it too would ' +
        'only log the log deliveries.',
    );
    acknowledge(
      this.distribution,
      'CFR1',
      'Sales and marketing users work from anywhere; the site is static files, and every piece of data ' +
        'sits behind the token-authenticated API.',
    );
    acknowledge(
      this.distribution,
      'CFR2',
      'WAF in front of a static, read-only bundle adds a web ACL, rules and per-request cost without ' +
        'protecting data, which is served only by the token-authenticated API.',
    );
    acknowledge(
      this.distribution,
      'CFR4',
      'The default *.cloudfront.net certificate does not let a distribution set its minimum TLS version; ' +
        'with a custom domain and ACM certificate set TLSv1.2_2021 (README, Deploy to AWS).',
    );
  }

  /** `https://<id>.cloudfront.net` */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Deploys the built app (or a placeholder, with a warning) and `config.json`. */
  publishSite(siteConfig: SiteConfig): void {
    const logGroup = new LogGroup(this, 'DeploymentLogs', {
      retention: this.config.logRetention,
      removalPolicy: this.config.removalPolicy,
    });
    const site = new BucketDeployment(this, 'SiteDeployment', {
      sources: [this.siteSource()],
      destinationBucket: this.bucket,
      // Pruning removes files of older builds; config.json belongs to the other deployment.
      prune: true,
      exclude: ['config.json'],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: DEPLOYMENT_MEMORY_MB,
      logGroup,
    });
    new BucketDeployment(this, 'ConfigDeployment', {
      sources: [Source.jsonData('config.json', siteConfig)],
      destinationBucket: this.bucket,
      prune: false,
      cacheControl: [CacheControl.noCache()],
      // Same memory as the site deployment: both then share CDK's one deployment function.
      memoryLimit: DEPLOYMENT_MEMORY_MB,
      logGroup,
    });
    this.acknowledgeDeploymentHandler(site);
  }

  /** Findings on CDK's shared BucketDeployment function (a stack-level singleton). */
  private acknowledgeDeploymentHandler(deployment: BucketDeployment): void {
    const handler = deployment.handlerRole.node.scope;
    if (!handler) return;
    const stack = Stack.of(this);
    const synthesizer = stack.synthesizer;
    const qualifier =
      synthesizer instanceof DefaultStackSynthesizer
        ? (synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER)
        : DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const why = 'CDK BucketDeployment function: ';
    acknowledge(
      handler,
      MANAGED_POLICY.basicExecution,
      `${why}AWSLambdaBasicExecutionRole only lets it write its logs.`,
    );
    acknowledge(handler, 'L1', `${why}CDK-managed (Python) function whose runtime aws-cdk-lib pins.`);
    acknowledge(
      handler,
      'IAM5[Resource::*]',
      `${why}cloudfront:CreateInvalidation/GetInvalidation, which it calls after a deploy, take no resource ARN in its policy.`,
    );
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      acknowledge(
        handler,
        `IAM5[Action::${action}]`,
        `${why}CDK's bucket grant (copy assets in, prune old files); scoped to the CDK asset bucket and the site bucket.`,
      );
    }
    acknowledge(
      handler,
      `IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]`,
      `${why}reads the zipped site from the CDK bootstrap asset bucket; asset keys are content hashes.`,
    );
    acknowledge(
      handler,
      `IAM5[Resource::${nagRef(this.bucket.node.defaultChild as CfnElement, 'Arn')}/*]`,
      `${why}writes and prunes every object of the dashboard bucket, which is its job.`,
    );
  }

  private siteSource(): ISource {
    if (existsSync(path.join(this.webDistDir, 'index.html'))) return Source.asset(this.webDistDir);
    Annotations.of(this).addWarningV2(
      PLACEHOLDER_WARNING_ID,
      `${path.relative(REPO_ROOT, this.webDistDir)}/index.html not found: deploying a placeholder page. ` +
        'Run `npm run build:web` before `cdk deploy` to ship the dashboard.',
    );
    return Source.data('index.html', PLACEHOLDER_HTML);
  }
}

const PLACEHOLDER_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>leadrouter</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>leadrouter</h1>
<p>The dashboard was not built when this stack was deployed. Run <code>npm run build:web</code>, then
<code>npx cdk deploy</code> again. The API and the webhooks work without it.</p>
</main>
</body>
</html>
`;
