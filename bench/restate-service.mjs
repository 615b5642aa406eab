// The Restate side of scripts/bench-restate: a service `steps` whose handler `run` takes {"v": n}
// and makes three journaled steps (ctx.run), each adding one, as Sluice's three-step workflow
// calls `add` three times. Served over HTTP/2 on 127.0.0.1 (PORT, 9080 by default).
import * as http2 from "node:http2";
import * as restate from "@restatedev/restate-sdk";

const steps = restate.service({
  name: "steps",
  handlers: {
    run: async (ctx, input) => {
      let value = input;
      for (const name of ["one", "two", "three"]) {
        const v = value.v;
        value = await ctx.run(name, () => ({ v: v + 1 }));
      }
      return value;
    },
  },
});

const port = Number(process.env.PORT ?? 9080);
http2
  .createServer(restate.createEndpointHandler({ services: [steps] }))
  .listen(port, "127.0.0.1", () => console.log(`restate service on 127.0.0.1:${port}`));
