export { runFaults, type FaultsOptions } from './run.js';
export { SCENARIOS, type FaultsReport, type ScenarioId, type ScenarioResult } from './report.js';
export { parseProxyRoute, Toxiproxy, type ProxyRoute } from './network-cut.js';
export { clusterNodesFrom, nodeFailover, tally, type ClusterNodes, type FailoverOptions } from './node-failover.js';
