export { driverFactory, VERSION } from './driver.js';
export { MemoryBroker } from './broker.js';
