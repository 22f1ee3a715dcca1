import { registerDriver } from '@brokerkit/core';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests({ backend: 'memory', url: 'memory://conformance' });
