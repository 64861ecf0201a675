
def _device():
    return torch.device("cpu")


# Graph reductions with plain index_add_ and scatter_reduce_ (no PyG): row i of the result
# reduces the rows e of x with idx[e] == i; an empty segment is 0, as in dlc.
def segment_sum(x, idx, n):
    return torch.zeros((n,) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device).index_add_(0, idx, x)


def segment_count(idx, n, dev):
    return torch.zeros(n, device=dev).index_add_(0, idx, torch.ones(idx.shape[0], device=dev))


def segment_mean(x, idx, n):
    c = segment_count(idx, n, x.device).clamp(min=1)
    return segment_sum(x, idx, n) / c.reshape((n,) + (1,) * (x.dim() - 1))


def _segment_ext(x, idx, n, how):
    out = torch.zeros((n,) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device)
    i = idx.reshape((-1,) + (1,) * (x.dim() - 1)).expand_as(x)
    return out.scatter_reduce(0, i, x, reduce=how, include_self=False)


def segment_amax(x, idx, n):
    return _segment_ext(x, idx, n, "amax")


def segment_amin(x, idx, n):
    return _segment_ext(x, idx, n, "amin")


def sum_to(x, shape):
    """x summed down to shape: the adjoint of broadcasting."""
    lead = x.dim() - len(shape)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    return x.sum(dim=dims, keepdim=True) if dims else x


def apply(nets, name, *inputs):
    """Runs dlc's function name (a block, AE.reconstruct, …) on inputs."""
    return FUNCTIONS[name](nets, *inputs)


# safetensors, read and written here so that the package needs torch alone.
_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        t = torch.frombuffer(bytearray(body[a:b]), dtype=_DTYPES[e["dtype"]]) if b > a else torch.zeros(0, dtype=_DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).float()
    return out


def write_safetensors(path, tensors, metadata=None):
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def state_dict(nets):
    """Every block's weights under its name: Enc.dense0.weight, torch's layout."""
    return {f"{b}.{k}": v for b, net in nets.items() for k, v in net.state_dict().items()}


def load_weights(nets, path):
    ts = read_safetensors(path)
    for b, net in nets.items():
        own = {k[len(b) + 1:]: v for k, v in ts.items() if k.startswith(b + ".")}
        net.load_state_dict(own, strict=True)
    return nets


def load(dir=os.path.dirname(os.path.abspath(__file__)), weights="weights.safetensors"):
    """The blocks by name, with the weights of dir/weights loaded, in evaluation mode."""
    nets = blocks()
    load_weights(nets, os.path.join(dir, weights))
    for n in nets.values():
        n.eval()
    return nets


def save(nets, path, metadata=None):
    write_safetensors(path, state_dict(nets), metadata)
