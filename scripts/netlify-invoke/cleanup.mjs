// Never run. netlify-cli's `functions:invoke` looks a function's name up
// among JavaScript functions only (utils/functions/get-functions.js keeps
// runtime "js"), so it cannot find the Go function functions/cleanup. Given
// `--functions scripts/netlify-invoke`, it finds this stand-in, sees that it
// is scheduled and POSTs to the running server's
// /.netlify/functions/cleanup with `User-Agent: Netlify Clockwork`: the Go
// function answers, under `netlify dev`, `netlify functions:serve` or
// `./build.sh dev`. See README, "Cleanup".
export default async () => new Response("scripts/netlify-invoke/cleanup.mjs is a lookup stand-in, never a function", { status: 500 });

export const config = { schedule: "* * * * *" };
