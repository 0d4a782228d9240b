import { useBackend } from '../../src/backend/use-backend.js';
import { writeTestFolder } from './helpers.js';
await useBackend('cpu');
console.log(writeTestFolder(process.argv[2]!, Number(process.argv[3] ?? 10), 40));
