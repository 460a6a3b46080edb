// Verify webhook deliveries with the npm package standardwebhooks (an implementation
// nobody here wrote). stdin: [{secret, headers, body}]; stdout: [{ok, error?, type?}].
"use strict";
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((it) => {
    try {
      const payload = new Webhook(it.secret).verify(it.body, it.headers);
      return { ok: true, type: payload.type };
    } catch (e) {
      return { ok: false, error: String(e && e.message ? e.message : e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
