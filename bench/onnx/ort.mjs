// ort.mjs: run an ONNX model with onnxruntime-node on .npy inputs and write its first
// output as a .npy array.
//
//   node ort.mjs MODEL.onnx OUT.npy NAME=IN.npy ...
//
// The .npy files are float32, C order (what dlc and numpy write).
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.ORT_DIR ? process.env.ORT_DIR + "/" : import.meta.url);
const ort = require("onnxruntime-node");

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${path}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString("latin1", start, start + hlen);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True")) throw new Error(`${path}: want float32 in C order, got ${header}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(",").map(s => s.trim()).filter(s => s).map(Number);
  const off = start + hlen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const h = Buffer.alloc(10);
  h.write("\x93NUMPY", 0, "latin1");
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([h, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const [model, out, ...ins] = process.argv.slice(2);
const session = await ort.InferenceSession.create(model);
const feeds = {};
for (const a of ins) {
  const [name, file] = a.split("=");
  const { shape, data } = readNpy(file);
  feeds[name] = new ort.Tensor("float32", data, shape);
}
const res = await session.run(feeds);
const y = res[session.outputNames[0]];
writeNpy(out, y.dims, y.data);
