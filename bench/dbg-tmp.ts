import { timeCheckpoints } from './checkpoint';
const origLog = console.error;
process.on('exit', (c) => origLog('exit', c));
const t = setInterval(() => origLog('alive', new Date().toISOString()), 30000);
timeCheckpoints({ models: ['vgg16'], batch: 8, backend: 'auto', checkpoints: 1 }).then((r) => { console.log(JSON.stringify(r)); clearInterval(t); }, (e) => { console.error('ERR', e); clearInterval(t); });
