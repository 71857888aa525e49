export { type StsIssue, type StsStandIn, type StsStandInOptions, startStsStandIn } from './server.ts';
