/**
 * The public HTTP API: every route of the registry's `http` handlers, each integrated with its handler
 * (payload format 2.0, the shape the local gateway produces too). Authentication is the handlers' job —
 * the webhook secret (`X-Webhook-Secret`) for intake, the bearer token for the admin API — so the
 * routes carry no API Gateway authorizer.
 *
 * Throttling is per route, so a flood on the webhook cannot starve the admin API and the reverse.
 * API Gateway answers 429 above the limit; Make and Zapier retry 429s.
 */
import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnRoute,
  CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  type ThrottleSettings,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HandlerFunctions } from './handler-functions.js';
import { pascalCase } from './names.js';
import { acknowledge } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

/** The lead webhook's route key, as written in the registry. */
export const WEBHOOK_ROUTE = 'POST /webhooks/leads';

/** Stage default for routes without their own limit (admin API, health). */
export const DEFAULT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 50, burstLimit: 100 };
/**
 * Per-route CloudWatch metrics (count, 4xx, 5xx, latency… per route), on every route. A route's own
 * RouteSettings replace the stage defaults instead of merging with them, so routes with their own
 * throttle repeat it.
 */
export const DETAILED_METRICS = true;

/** A registry route key (`POST /webhooks/leads`, `ANY /api/{proxy+}`) as method and path. */
export function parseRouteKey(routeKey: string): { method: HttpMethod; path: string } {
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  const method = match?.[1];
  if (!match || !method || !(Object.values(HttpMethod) as string[]).includes(method)) {
    throw new Error(`Route "${routeKey}" in functions/registry.ts is not "<METHOD> /path"`);
  }
  return { method: method as HttpMethod, path: match[2]! };
}

export interface IngestApiProps {
  readonly config: StageConfig;
  readonly functions: HandlerFunctions;
  /** Origins allowed to call the API from a browser (the dashboard). */
  readonly allowedOrigins: string[];
}

export class IngestApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Route key → throttle, as deployed in the stage's RouteSettings. */
  readonly routeThrottles: Record<string, Required<ThrottleSettings>>;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const { config, functions } = props;

    this.api = new HttpApi(this, 'Api', {
      apiName: `leadrouter-${config.stage}`,
      description: 'leadrouter webhooks and admin API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.allowedOrigins,
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        maxAge: Duration.hours(1),
      },
    });

    const routes: Record<string, HttpRoute> = {};
    for (const handler of functions.ofKind('http')) {
      const integration = new HttpLambdaIntegration(
        `${pascalCase(handler.name)}Integration`,
        handler.function,
      );
      for (const routeKey of handler.definition.trigger.routes) {
        const { method, path } = parseRouteKey(routeKey);
        const [route] = this.api.addRoutes({ path, methods: [method], integration });
        routes[routeKey] = route!;
      }
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: DEFAULT_THROTTLE,
      detailedMetricsEnabled: DETAILED_METRICS,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    const wanted: Record<string, Required<ThrottleSettings>> = {
      [WEBHOOK_ROUTE]: { rateLimit: config.webhookRateLimit, burstLimit: config.webhookBurstLimit },
      // Quota resets come from a CRM automation, a few a day; a loop there must not reach the allocator.
      'POST /webhooks/quota-reset': { rateLimit: 10, burstLimit: 20 },
    };
    // Only routes that exist: API Gateway rejects settings for an unknown route key.
    this.routeThrottles = Object.fromEntries(Object.entries(wanted).filter(([key]) => key in routes));
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      Object.entries(this.routeThrottles).map(([key, t]) => [
        key,
        {
          ThrottlingRateLimit: t.rateLimit,
          ThrottlingBurstLimit: t.burstLimit,
          DetailedMetricsEnabled: DETAILED_METRICS,
        },
      ]),
    );
    // Settings name routes by key, and API Gateway fails the stage ("Unable to find Route by key … within
    // the provided RouteSettings") if CloudFormation happens to create it before those routes.
    for (const key of Object.keys(this.routeThrottles)) {
      cfnStage.node.addDependency(routes[key]!.node.defaultChild as CfnRoute);
    }

    acknowledge(
      this.api,
      'APIG4',
      'Each route authenticates in its handler: webhooks by the per-source secret in X-Webhook-Secret ' +
        '(stored hashed), the admin API by bearer token, /health is public by contract (SPEC §6). An API ' +
        'Gateway authorizer would repeat the same lookup on every request.',
    );
  }

  /** `https://<id>.execute-api.<region>.amazonaws.com` (the `$default` stage has no path prefix). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  get webhookUrl(): string {
    return `${this.api.apiEndpoint}${parseRouteKey(WEBHOOK_ROUTE).path}`;
  }
}
