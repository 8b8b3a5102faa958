// The public surface of 'baton/server': the HTTP API and web UI, and the Node adapter.
export {
  createServer,
  type BatonServer,
  type ServerOptions,
  type CorsOptions,
  type Asset,
  type AssetSource,
} from './server.ts';
export { serve, uiAssets, UI_DIST, type ServeOptions, type RunningServer } from './node.ts';
export { runUrl } from './run-url.ts';
export {
  Authenticator,
  type AuthOptions,
  type ApiTokenHolder,
  type JwtOptions,
  type Caller,
} from './authenticate.ts';
export { HttpError, SERVER_ERROR_CODES, type ServerErrorCode, type ErrorBody } from './http-error.ts';
export { openApiDocument } from './openapi.ts';
export type { ApprovalView } from '../approvals/approval-views.ts';
export type { ApprovalDecisionRequest, ApprovalDecision } from './approval-inbox.ts';
export type { StepDetail } from './step-detail.ts';
export type { CostReport, CostLine } from '../journal/run-model/cost-report.ts';
export { StreamTokens, type StreamTokenClaims } from './stream-tokens.ts';
export { UiMessageTranslator } from './ui-message-chunks.ts';
