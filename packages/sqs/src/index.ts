export { driverFactory } from './driver.js';
export { sqsCapabilities } from './capabilities.js';
export { awsName } from './names.js';
