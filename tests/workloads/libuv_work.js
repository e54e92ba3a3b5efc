// node's libuv under load: fs.readFile and crypto.pbkdf2 run on threadpool
// workers, whose completions wake the main thread's epoll_wait through an
// eventfd write (uv_async_send); a 5 ms timer ticks beside them. Prints
// "ready" once the loop runs, and its own counts when stdin closes.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
let reads = 0, hashes = 0, ticks = 0, stopping = false;

function readLoop() {
  fs.readFile(__filename, () => { reads++; if (!stopping) readLoop(); });
}
function hashLoop() {
  crypto.pbkdf2('password', 'salt', 2000, 32, 'sha256', () => {
    hashes++;
    if (!stopping) hashLoop();
  });
}
const timer = setInterval(() => { ticks++; }, 5);
readLoop();
hashLoop();
hashLoop();
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  stopping = true;
  clearInterval(timer);
  console.log(`node reads=${reads} hashes=${hashes} ticks=${ticks}`);
  process.exit(0);
});
setTimeout(() => console.log('ready'), 200);
