export { BROKER_NAMES, CONTAINERS, type BrokerName, type ContainerSpec } from './images.js';
export { BrokerUnavailableError, envVarFor, startBrokers, type StartedBrokers } from './start-brokers.js';
