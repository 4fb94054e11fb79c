// A CommonJS program for `polybox exec`: counts the words of its standard
// input, and the most frequent one; exits 1 if there are none.
const { argv } = require('node:process');

let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  text += chunk;
});
process.stdin.on('end', () => {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  if (words.length === 0) {
    console.error('no words on standard input');
    process.exit(1);
  }
  const counts = new Map();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  const [top, times] = [...counts].sort((a, b) => b[1] - a[1])[0];
  const label = argv[2] ?? 'input';
  console.log(`${label}: ${words.length} words; "${top}" ${times} times`);
});
