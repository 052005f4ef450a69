/**
 * The dashboard's live feed: an API Gateway WebSocket API whose routes come from the registry's
 * `websocket` handlers, with the `websocket-authorizer` handler on `$connect` (the admin token arrives
 * as `?token=`, browsers cannot set headers on a WebSocket). API Gateway runs the authorizer once per
 * connection; messages on an authorized connection need no further check.
 *
 * Broadcasting: a handler that commits events posts them to the org's connections through the
 * `@connections` management API at `WS_MANAGEMENT_ENDPOINT`, and deletes a connection that answers
 * 410 Gone from the connections table.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import type { HandlerTrigger } from '../functions/registry.js';
import type { HandlerFunctions } from './handler-functions.js';
import { acknowledge, nagRef } from './nag-acknowledgements.js';
import type { StageConfig } from './stage-config.js';

/** The routes a WebSocket API needs handlers for. */
export const WEBSOCKET_ROUTES = ['$connect', '$disconnect', '$default'] as const;
/** Where the `$connect` authorizer reads the admin token. */
export const TOKEN_IDENTITY_SOURCE = 'route.request.querystring.token';

/**
 * Trigger kinds whose handlers push to connections: they commit events (API, allocator, scheduled jobs
 * such as the outbox relay and decay) or answer a client (`$default` pings). Derived from the trigger so
 * a new scheduled job can broadcast without a second list to keep in step.
 */
function broadcasts(trigger: HandlerTrigger): boolean {
  return (
    trigger.kind === 'http' ||
    trigger.kind === 'sqs' ||
    trigger.kind === 'schedule' ||
    (trigger.kind === 'websocket' && trigger.route === '$default')
  );
}

export interface RealtimeProps {
  readonly config: StageConfig;
  readonly functions: HandlerFunctions;
}

export class Realtime extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    const { config, functions } = props;

    const authorizer = functions.single('websocket-authorizer');
    const routeHandler = (route: (typeof WEBSOCKET_ROUTES)[number]) => {
      const found = functions.ofKind('websocket').filter((h) => h.definition.trigger.route === route);
      if (found.length !== 1) {
        throw new Error(
          `functions/registry.ts must have exactly one "${route}" WebSocket handler, found ${found.length}`,
        );
      }
      return found[0]!.function;
    };

    this.api = new WebSocketApi(this, 'Api', {
      apiName: `leadrouter-${config.stage}-realtime`,
      description: 'leadrouter dashboard live events',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('ConnectIntegration', routeHandler('$connect')),
        authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', authorizer.function, {
          identitySource: [TOKEN_IDENTITY_SOURCE],
        }),
      },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('DisconnectIntegration', routeHandler('$disconnect')),
      },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('DefaultIntegration', routeHandler('$default')),
        // The handler's return value is sent back on the connection (ping → pong) without a management call.
        returnResponse: true,
      },
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: config.stage,
      autoDeploy: true,
      // Messages from clients, stage-wide: dashboards only send keep-alive pings.
      throttle: { rateLimit: 100, burstLimit: 200 },
    });

    const connectionsResource = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${nagRef(
      this.api.node.defaultChild as CfnElement,
    )}/${this.stage.stageName}/*/@connections/*`;
    for (const h of functions.all) {
      h.function.addEnvironment('WS_MANAGEMENT_ENDPOINT', this.managementEndpoint);
      if (!broadcasts(h.definition.trigger)) continue;
      this.stage.grantManagementApiAccess(h.function);
      acknowledge(
        h.function,
        `IAM5[Resource::${connectionsResource}]`,
        'Connection ids exist only at run time; the grant is limited to the @connections routes of this ' +
          "API's stage.",
      );
    }

    acknowledge(
      this.api,
      'APIG4',
      'API Gateway authorizes a WebSocket connection once, on $connect (token authorizer above); ' +
        '$disconnect and $default cannot carry an authorizer and only see already authorized connections.',
    );
    acknowledge(
      this.stage,
      'APIG1',
      'WebSocket stage logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account), ' +
        'an account setting this app does not change; the $connect/$disconnect functions log every connection.',
    );
  }

  /** `wss://…/<stage>`: what the dashboard connects to (with `?token=`). */
  get url(): string {
    return this.stage.url;
  }

  /** `https://…/<stage>`: the `@connections` management API. */
  get managementEndpoint(): string {
    return this.stage.callbackUrl;
  }
}
