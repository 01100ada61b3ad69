// The `webdav` npm package (the client JavaScript apps use: Nextcloud's and many Electron apps')
// against a real keepdav. Called by webdav_npm.sh, which then checks the served directory itself.
//
// Usage: node webdav_npm_client.mjs BASE_URL LOCAL_DIR
//   BASE_URL   e.g. http://127.0.0.1:PORT/ (an empty root)
//   LOCAL_DIR  scratch directory for files to upload and downloads
//
// Prints TAP-like "ok N - ..." / "not ok N - ..." lines, one per check, and exits 1 if any
// failed. Every step runs even after a failure, so one run shows everything that broke.
import { createClient } from "webdav";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [baseUrl, localDir] = process.argv.slice(2);
if (!baseUrl || !localDir) {
  console.error("usage: node webdav_npm_client.mjs BASE_URL LOCAL_DIR");
  process.exit(2);
}

// With auth_over.sh: the user and password from the environment, as an app passes them.
const user = process.env.KEEPDAV_USER;
const client = user
  ? createClient(baseUrl, { username: user, password: process.env.KEEPDAV_PASS })
  : createClient(baseUrl);
let checks = 0;
let failures = 0;

function report(ok, what, detail) {
  checks += 1;
  console.log(`${ok ? "ok" : "not ok"} ${checks} - ${what}`);
  if (!ok && detail !== undefined) console.log(`# ${String(detail).split("\n").join("\n# ")}`);
  if (!ok) failures += 1;
}

// Runs one step; a thrown error (the package throws on any non-2xx) fails the check.
async function check(what, fn) {
  try {
    const result = await fn();
    if (result === false) {
      report(false, what, "assertion failed");
    } else {
      report(true, what);
    }
  } catch (err) {
    report(false, what, `${err.status ?? ""} ${err.message}`);
  }
}

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const NS = "urn:example:keepdav-npm";

// A 3 MiB binary, uploaded both as a Buffer and as a stream (no Content-Length: chunked).
const binary = randomBytes(3 * 1024 * 1024);
writeFileSync(join(localDir, "upload.bin"), binary);

if (user) {
  // A wrong password fails cleanly: the package throws with the 401, and nothing is written.
  const wrong = createClient(baseUrl, { username: user, password: `not-${process.env.KEEPDAV_PASS}` });
  await check("wrong password: getDirectoryContents is refused with 401", async () => {
    try {
      await wrong.getDirectoryContents("/");
    } catch (err) {
      return err.status === 401;
    }
    return false;
  });
  await check("wrong password: putFileContents is refused with 401", async () => {
    try {
      await wrong.putFileContents("/wrong-password.txt", "must not land");
    } catch (err) {
      return err.status === 401;
    }
    return false;
  });
}

await check("getDAVCompliance: class 1 and 2", async () => {
  const c = await client.getDAVCompliance("/");
  return c.compliance.includes("1") && c.compliance.includes("2");
});

await check("createDirectory /docs", () => client.createDirectory("/docs"));
await check("createDirectory recursive /deep/a/b", () =>
  client.createDirectory("/deep/a/b", { recursive: true }));
await check("exists /deep/a/b", async () => (await client.exists("/deep/a/b")) === true);

await check("putFileContents text /docs/hello.txt", () =>
  client.putFileContents("/docs/hello.txt", "hello from node\n"));
await check("putFileContents Buffer /docs/data.bin (3 MiB)", () =>
  client.putFileContents("/docs/data.bin", binary));
await check("putFileContents stream /docs/stream.bin (chunked)", () =>
  client.putFileContents("/docs/stream.bin", createReadStream(join(localDir, "upload.bin"))));
await check("putFileContents overwrite:false on an existing file returns false", async () =>
  (await client.putFileContents("/docs/hello.txt", "nope", { overwrite: false })) === false);
await check("putFileContents with spaces and non-ASCII: /docs/Résumé 2026 #1.txt", () =>
  client.putFileContents("/docs/Résumé 2026 #1.txt", "cv\n"));

await check("getDirectoryContents /docs lists the four files", async () => {
  const list = await client.getDirectoryContents("/docs");
  const names = list.map((e) => e.basename).sort();
  const want = ["Résumé 2026 #1.txt", "data.bin", "hello.txt", "stream.bin"];
  if (JSON.stringify(names) !== JSON.stringify(want)) throw new Error(JSON.stringify(names));
  const data = list.find((e) => e.basename === "data.bin");
  return data.type === "file" && data.size === binary.length && data.etag && data.lastmod;
});
await check("getDirectoryContents deep listing of /deep", async () => {
  const list = await client.getDirectoryContents("/deep", { deep: true });
  const names = list.map((e) => e.filename).sort();
  return JSON.stringify(names) === JSON.stringify(["/deep/a", "/deep/a/b"]);
});

await check("stat /docs/data.bin", async () => {
  const s = await client.stat("/docs/data.bin");
  return s.type === "file" && s.size === binary.length && s.basename === "data.bin" &&
    typeof s.etag === "string" && !Number.isNaN(Date.parse(s.lastmod));
});
await check("stat /docs is a directory", async () => (await client.stat("/docs")).type === "directory");
await check("stat of a missing file throws 404", async () => {
  try {
    await client.stat("/docs/missing.txt");
    return false;
  } catch (err) {
    return err.status === 404;
  }
});

await check("getFileContents text", async () =>
  (await client.getFileContents("/docs/hello.txt", { format: "text" })) === "hello from node\n");
await check("getFileContents binary equals the upload", async () => {
  const buf = Buffer.from(await client.getFileContents("/docs/data.bin"));
  return sha256(buf) === sha256(binary);
});
await check("getFileContents of the streamed upload equals the file", async () => {
  const buf = Buffer.from(await client.getFileContents("/docs/stream.bin"));
  return sha256(buf) === sha256(binary);
});
await check("getFileContents with a Range (createReadStream range)", async () => {
  const chunks = [];
  const stream = client.createReadStream("/docs/data.bin", { range: { start: 10, end: 19 } });
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).equals(binary.subarray(10, 20));
});
await check("getFileContents of the non-ASCII name", async () =>
  (await client.getFileContents("/docs/Résumé 2026 #1.txt", { format: "text" })) === "cv\n");
await check("download to LOCAL_DIR/download.bin", async () => {
  const buf = Buffer.from(await client.getFileContents("/docs/data.bin"));
  writeFileSync(join(localDir, "download.bin"), buf);
  return sha256(readFileSync(join(localDir, "download.bin"))) === sha256(binary);
});

await check("copyFile /docs/hello.txt -> /docs/hello copy.txt", () =>
  client.copyFile("/docs/hello.txt", "/docs/hello copy.txt"));
await check("moveFile /docs/data.bin -> /deep/a/b/moved.bin", () =>
  client.moveFile("/docs/data.bin", "/deep/a/b/moved.bin"));
await check("moveFile a folder /deep/a -> /moved-a", () => client.moveFile("/deep/a", "/moved-a"));
await check("the moved file is under the moved folder", async () =>
  (await client.stat("/moved-a/b/moved.bin")).size === binary.length);

// A custom (dead) property round trip: PROPPATCH through customRequest, read back with a
// PROPFIND body of our own through stat({ details: true, data }).
await check("PROPPATCH a custom property (customRequest)", async () => {
  const res = await client.customRequest("/docs/hello.txt", {
    method: "PROPPATCH",
    headers: { "Content-Type": "application/xml; charset=utf-8" },
    data: `<?xml version="1.0" encoding="utf-8"?>
<d:propertyupdate xmlns:d="DAV:" xmlns:x="${NS}">
  <d:set><d:prop><x:color>blue &amp; green</x:color><x:rating>5</x:rating></d:prop></d:set>
</d:propertyupdate>`,
  });
  const body = await res.text();
  return res.status === 207 && body.includes("200 OK") && !/HTTP\/1\.1 [45]/.test(body);
});
await check("stat with details reads the custom property back", async () => {
  const s = await client.stat("/docs/hello.txt", {
    details: true,
    data: `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:x="${NS}"><d:prop><x:color/><x:rating/><d:getetag/></d:prop></d:propfind>`,
  });
  const props = s.data.props;
  if (props.color !== "blue & green" || Number(props.rating) !== 5) {
    throw new Error(JSON.stringify(props));
  }
  return true;
});
await check("the property follows a MOVE", async () => {
  await client.moveFile("/docs/hello.txt", "/docs/hello-moved.txt");
  const s = await client.stat("/docs/hello-moved.txt", {
    details: true,
    data: `<d:propfind xmlns:d="DAV:" xmlns:x="${NS}"><d:prop><x:color/></d:prop></d:propfind>`,
  });
  return s.data.props.color === "blue & green";
});

// LOCK and UNLOCK (the package asks for "Infinite, Second-4100000000"; keepdav caps it).
await check("lock, write with the token, unlock", async () => {
  const lock = await client.lock("/docs/hello-moved.txt");
  if (!lock.token.startsWith("urn:uuid:")) throw new Error(`token ${lock.token}`);
  let refused = false;
  try {
    await client.putFileContents("/docs/hello-moved.txt", "without the token");
  } catch (err) {
    refused = err.status === 423;
  }
  if (!refused) throw new Error("a PUT without the token was not refused with 423");
  await client.putFileContents("/docs/hello-moved.txt", "locked write\n", {
    headers: { If: `(<${lock.token}>)` },
  });
  await client.unlock("/docs/hello-moved.txt", lock.token);
  await client.putFileContents("/docs/hello-moved.txt", "after unlock\n");
  return true;
});

await check("getQuota answers with numbers", async () => {
  const q = await client.getQuota();
  return q && typeof q.used === "number" && (typeof q.available === "number" || q.available === "unlimited");
});

await check("deleteFile /docs/stream.bin", () => client.deleteFile("/docs/stream.bin"));
await check("deleteFile of a folder /moved-a", () => client.deleteFile("/moved-a"));
await check("the deleted folder is gone", async () => (await client.exists("/moved-a")) === false);

console.log(`webdav npm ${checks} checks, ${failures} not ok`);
process.exit(failures === 0 ? 0 : 1);
