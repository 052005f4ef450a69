import { z } from 'zod';
import { runIdempotent } from '../../adapters/dynamo/idempotency.js';
import { ORDER_STATUSES } from '../../adapters/pg/orders.js';
import { header } from '../../http/middleware.js';
import {
  createOrder,
  deleteOrder,
  exportOrdersCsv,
  fulfillOrder,
  getOrderDetail,
  getStateCaps,
  listOrderPage,
  OrderInputSchema,
  putStateCaps,
  StateCapsSchema,
} from '../../usecases/orders.js';
import { route } from '../router.js';
import { ErrorBody, Uuid } from '../schemas.js';

const OrderStatusSchema = z.enum(ORDER_STATUSES as ['open', 'filled', 'fulfilled', 'deleted']);

// `.clone()`: the use case's schema may be built before `extendZodWithOpenApi` ran (zod 4 gives a schema
// its methods when it is built), so the OpenAPI-aware copy is made here, after schemas.ts.
export const OrderCreate = OrderInputSchema.clone().openapi('OrderCreate', {
  example: {
    customerName: 'Jane Doe',
    customerEmail: 'jane@example.com',
    requestedStates: ['CA', 'NY'],
    quantity: 5,
  },
});

export const Order = z
  .object({
    id: Uuid,
    number: z.number(),
    customerName: z.string(),
    customerEmail: z.string(),
    requestedStates: z.array(z.string()),
    quantity: z.number().nullable(),
    status: OrderStatusSchema,
    leadCount: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
    filledAt: z.string().nullable(),
    fulfilledAt: z.string().nullable(),
    deletedAt: z.string().nullable(),
  })
  .openapi('Order');

export const OrderDetail = Order.extend({
  leadsByState: z.record(z.string(), z.number()),
  leads: z.array(
    z.object({
      id: Uuid,
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      phone: z.string().nullable(),
      email: z.string().nullable(),
      state: z.string().nullable(),
      zip: z.string().nullable(),
      status: z.string(),
      receivedAt: z.string(),
      soldAt: z.string(),
    }),
  ),
}).openapi('OrderDetail');

const OrderListQuery = z.object({
  status: OrderStatusSchema.optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const StateCapsBody = StateCapsSchema.clone().openapi('StateCaps', {
  example: { default: 10, caps: { NY: 2 } },
});

export const orderRoutes = [
  route({
    method: 'POST',
    path: '/api/orders',
    summary:
      'Create an order and fill it from stock in the same transaction (oldest leads first, within state caps); optional Idempotency-Key',
    tag: 'Orders',
    auth: 'admin',
    body: OrderCreate,
    responses: {
      201: { description: 'Created, with the leads it received', schema: OrderDetail },
      400: { description: 'Invalid, every problem by field', schema: ErrorBody },
      409: { description: 'A request with this Idempotency-Key is still running', schema: ErrorBody },
      422: { description: 'Idempotency-Key reused with a different body', schema: ErrorBody },
    },
    handle: async ({ orgId, body, event, context }) => {
      const key = header(event, 'idempotency-key');
      // Plain JSON (no Date objects): the idempotency store keeps the response to answer retries with.
      const run = async () => ({
        status: 201,
        body: JSON.parse(JSON.stringify(await createOrder(orgId, body))),
      });
      return key ? runIdempotent({ orgId, operation: 'order.create', key, body, context, run }) : run();
    },
  }),
  route({
    method: 'GET',
    path: '/api/orders',
    summary: 'List orders, newest first, page by page (deleted orders only with status=deleted)',
    tag: 'Orders',
    auth: 'admin',
    query: OrderListQuery,
    responses: {
      200: {
        description: 'A page of orders',
        schema: z.object({ items: z.array(Order), page: z.number(), limit: z.number(), total: z.number() }),
      },
    },
    handle: async ({ orgId, query }) => ({ status: 200, body: await listOrderPage(orgId, query) }),
  }),
  // Before /api/orders/{id}: the path template would match "export.csv" too.
  route({
    method: 'GET',
    path: '/api/orders/export.csv',
    summary: 'Orders of one status (default fulfilled) as CSV, a row per lead, times in America/New_York',
    tag: 'Orders',
    auth: 'admin',
    query: z.object({ status: OrderStatusSchema.default('fulfilled') }),
    responses: { 200: { description: 'text/csv' } },
    handle: async ({ orgId, query }) => {
      const chunks: Buffer[] = [];
      for await (const chunk of exportOrdersCsv(orgId, query.status)) chunks.push(Buffer.from(chunk));
      return {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="orders-${query.status}.csv"`,
        },
        raw: Buffer.concat(chunks).toString('utf8'),
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/orders/{id}',
    summary: 'An order with the leads it holds',
    tag: 'Orders',
    auth: 'admin',
    uuidParams: ['id'],
    query: z.object({
      includeDeleted: z
        .enum(['true', 'false'])
        .default('false')
        .transform((v) => v === 'true')
        .openapi({
          description: 'A deleted order is a 404 unless this is true (it then lists the leads it gave back)',
        }),
    }),
    responses: {
      200: { description: 'Order', schema: OrderDetail },
      404: { description: 'Not found (or deleted, without includeDeleted)', schema: ErrorBody },
    },
    handle: async ({ orgId, params, query }) => ({
      status: 200,
      body: await getOrderDetail(orgId, params.id!, { includeDeleted: query.includeDeleted }),
    }),
  }),
  route({
    method: 'PATCH',
    path: '/api/orders/{id}/fulfill',
    summary: 'Mark an order fulfilled (it takes no more leads)',
    tag: 'Orders',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: { description: 'Fulfilled', schema: OrderDetail },
      404: { description: 'Not found', schema: ErrorBody },
      409: { description: 'Already fulfilled', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await fulfillOrder(orgId, params.id!) }),
  }),
  route({
    method: 'DELETE',
    path: '/api/orders/{id}',
    summary:
      'Delete an order; its leads go back to stock (assignments ended order_deleted), in one transaction',
    tag: 'Orders',
    auth: 'admin',
    uuidParams: ['id'],
    responses: {
      200: {
        description: 'Deleted',
        schema: Order.extend({ returnedLeadIds: z.array(Uuid) }),
      },
      404: { description: 'Not found', schema: ErrorBody },
      409: { description: 'Some of its leads are in work (contacted, won, …)', schema: ErrorBody },
    },
    handle: async ({ orgId, params }) => ({ status: 200, body: await deleteOrder(orgId, params.id!) }),
  }),
  route({
    method: 'GET',
    path: '/api/state-caps',
    summary: 'The most leads of each state a single order may receive',
    tag: 'Orders',
    auth: 'admin',
    responses: { 200: { description: 'State caps', schema: StateCapsBody } },
    handle: async ({ orgId }) => ({ status: 200, body: await getStateCaps(orgId) }),
  }),
  route({
    method: 'PUT',
    path: '/api/state-caps',
    summary: 'Replace the state caps (states left out use the default)',
    tag: 'Orders',
    auth: 'admin',
    body: StateCapsBody,
    responses: {
      200: { description: 'State caps', schema: StateCapsBody },
      400: { description: 'Invalid, every problem by field', schema: ErrorBody },
    },
    handle: async ({ orgId, body }) => ({ status: 200, body: await putStateCaps(orgId, body) }),
  }),
];
