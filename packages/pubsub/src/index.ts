export { driverFactory } from './driver.js';
export { pubsubCapabilities } from './capabilities.js';
