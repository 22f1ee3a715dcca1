export { BROKER_NAMES, CONTAINERS, type BrokerName, type ContainerSpec } from './images.js';
export { CLUSTER_NAMES, CLUSTERS, type ClusterName, type ClusterSpec } from './clusters.js';
export { BrokerUnavailableError, envVarFor, findComposeFile, startBrokers, type ProvidedName, type StartBrokersOptions, type StartedBrokers } from './start-brokers.js';
