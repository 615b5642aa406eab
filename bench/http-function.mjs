// The HTTP function of scripts/bench-restate's HTTP variant: POST {"v": n} to /add and get
// {"v": n + 1}, the same as the testbed's in-process `add`. Served over HTTP/1.1 on 127.0.0.1
// (PORT, 9081 by default).
import * as http from "node:http";

const port = Number(process.env.PORT ?? 9081);
http
  .createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      let answer;
      let status = 200;
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (request.url !== "/add" || !Number.isInteger(event?.v)) {
          throw new Error(`expected POST /add with {"v": integer}, got ${request.url}`);
        }
        answer = { v: event.v + 1 };
      } catch (error) {
        status = 400;
        answer = { errorType: "InvalidInput", errorMessage: String(error.message ?? error) };
      }
      const body = JSON.stringify(answer);
      response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      response.end(body);
    });
  })
  .listen(port, "127.0.0.1", () => console.log(`http function on 127.0.0.1:${port}`));
