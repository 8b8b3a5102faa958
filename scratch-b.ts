import { journalBytesBench } from './bench/journal-bytes.ts';
for (const row of await journalBytesBench([10, 50, 100, 200])) console.log(JSON.stringify(row), (row.journalBytes / row.uniqueMessageBytes).toFixed(3), Math.round((row.journalBytes-row.uniqueMessageBytes)/row.turns));
