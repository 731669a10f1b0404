#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/.

Seeds are small valid inputs (and a few near misses) that start each target
deep in its code. ci/fuzz.sh also feeds tests/cli/bad_npy/ to the npy
target. Re-run after changing a target's input format:
python3 tests/fuzz/make_corpus.py
"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write_folder(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    for name, content in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(content)


# ---- npy: whole .npy files ---------------------------------------------------


def npy(dict_text, data, major=1):
    body = dict_text.encode("ascii")
    pre = 10 if major == 1 else 12
    total = (pre + len(body) + 1 + 63) // 64 * 64
    body += b" " * (total - pre - len(body) - 1) + b"\n"
    fmt = "<H" if major == 1 else "<I"
    return b"\x93NUMPY" + bytes([major, 0]) + struct.pack(fmt, len(body)) + body + data


def array(descr, shape_text, nbytes, major=1, quote="'", tail=", }"):
    q = quote
    text = (f"{{{q}descr{q}: {q}{descr}{q}, {q}fortran_order{q}: False, "
            f"{q}shape{q}: {shape_text}{tail}")
    return npy(text, bytes(range(256)) * (nbytes // 256) + bytes(range(nbytes % 256)), major)


def npy_seeds():
    seeds = {
        "f4_2d.npy": array("<f4", "(1, 1, 4, 4)", 64),
        "f8_1d.npy": array("<f8", "(1, 2, 3)", 48),
        "f2_3d.npy": array("<f2", "(1, 1, 2, 2, 2)", 16),
        "u1.npy": array("|u1", "(2, 3, 5)", 30),
        "i1.npy": array("|i1", "(1, 1, 7)", 7),
        "i8_indices.npy": array("<i8", "(1, 1, 2, 2)", 32),
        "u2_bf16.npy": array("<u2", "(3,)", 6),
        "rank0.npy": array("<f4", "()", 4),
        "empty.npy": array("<f4", "(0, 3, 4, 4)", 0),
        "trailing_comma.npy": array("<f4", "(2, 3,)", 24),
        "double_quotes.npy": array("<f4", "(2, 2)", 16, quote='"'),
        "no_trailing_comma.npy": array("<f4", "(2, 2)", 16, tail="}"),
        "v2.npy": array("<f4", "(1, 1, 4, 4)", 64, major=2),
        "v3.npy": array("<f4", "(1, 1, 4, 4)", 64, major=3),
        "keys_reordered.npy": npy("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
                                  bytes(8)),
    }
    return seeds


# ---- cache_entry: mode byte, then an entry file or a payload -----------------

KEY = hashlib.sha256(b"clpool fuzz key").digest()


def entry(payload, key=KEY):
    header = (b"CLPOOLPC" + struct.pack("<II", 1, 0) + key + struct.pack("<Q", len(payload)) +
              hashlib.sha256(payload).digest())
    return header + payload


def cache_entry_seeds():
    good = entry(b"\x7fELF binary of some device" * 3)
    return {
        "valid_1": b"\x00" + entry(b"x"),
        "valid_81": b"\x00" + good,
        "valid_300": b"\x00" + entry(bytes(range(256)) + bytes(44)),
        "other_key": b"\x00" + entry(b"payload", key=hashlib.sha256(b"another").digest()),
        "bad_checksum": b"\x00" + good[:-1] + bytes([good[-1] ^ 1]),
        "truncated": b"\x00" + good[:-5],
        "header_only": b"\x00" + good[:88],
        "size_field_huge": b"\x00" + good[:48] + struct.pack("<Q", 1 << 62) + good[56:],
        "round_trip_short": b"\x01abc\x05\x00\x01\x00\x02\x00",
        "round_trip_long": b"\x01" + bytes(range(200)),
    }


# ---- window_plan: the encoding of fuzz_window_plan.c's decode() -------------

INT_EDGES = [0, 1, -1, 2**31 - 1, -2**31, (2**31 - 1) // 2, 1 << 16, 1 << 20, (1 << 20) + 1,
             1 << 30, 46341, 1291, 65535, 32768, 1024, 1025, -2, (2**31 - 1) // 4 + 1]
SIZE_EDGES = [0, 1, (2**31 - 1) // 4, (2**31 - 1) // 4 + 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
              2**64 - 1, (2**64 - 1) // 2, 2**63, 46341, 1 << 20, 3037000500, 1 << 21, 65536]


def enc_int(v):
    if -2 <= v <= 13:
        return bytes([v + 2])
    if v in INT_EDGES:
        return bytes([0x80 + INT_EDGES.index(v)])
    return b"\xc0" + struct.pack("<i", v)


def enc_size(v):
    if 0 <= v <= 23:
        return bytes([v])
    if v in SIZE_EDGES:
        return bytes([0x80 + SIZE_EDGES.index(v)])
    return b"\xc0" + struct.pack("<Q", v)


OPS = {"max": 1, "avg": 2, "lp": 3, "gem": 4, "mixed": 5, "softmax": 6, "stochastic": 7}
DTYPES = {"float32": 0, "float16": 1, "bfloat16": 2, "float64": 3, "uint8": 4, "int8": 5,
          "int32": 6, "int64": 7}
DOUBLE_SMALL = [0, 1, 2, -1, 0.5, 3, 1e-6, -0.5, 0.25, 1.5, 4, 0.75, -2, 10, 0.1, 1e-300]


def enc_double(v):
    if v in DOUBLE_SMALL:
        return bytes([DOUBLE_SMALL.index(v)])
    return b"\xc0" + struct.pack("<d", v)


def desc(op="max", dtype="float32", layout="nchw", dims=2, n=1, c=1, spatial=(4, 4, 4),
         kernel=(2, 2, 2), stride=(0, 0, 0), padding=(0, 0, 0), dilation=(0, 0, 0), ceil=0,
         exclude=0, divisor=0, indices=0, p=0, alpha=0, beta=0, train=0, seed=0):
    code = OPS[op]
    out = bytes([code - 1 if code <= 2 else 0xE0 + code + 4,
                 0 if dtype == "float32" else 0xC0 + DTYPES[dtype] + 2,
                 0 if layout == "nchw" else 0xE0 + 1 + 2, dims - 1])
    out += enc_size(n) + enc_size(c)
    out += b"".join(enc_size(v) for v in spatial)
    for values in (kernel, stride, padding, dilation):
        out += b"".join(enc_int(v) for v in values)
    out += enc_int(ceil) + enc_int(exclude) + enc_int(divisor) + enc_int(indices)
    out += enc_double(p) + enc_double(alpha) + enc_double(beta) + enc_int(train)
    return out + struct.pack("<Q", seed)


def window_plan_seeds():
    return {
        # Valid descriptors (they reach the kernel source read).
        "readme_example": desc(n=16, c=64, spatial=(112, 112, 0), kernel=(3, 3, 0),
                               stride=(2, 2, 0), padding=(1, 1, 0), indices=1),
        "avg_1d_ceil": desc(op="avg", dims=1, spatial=(5, 0, 0), kernel=(2, 0, 0), ceil=1,
                            padding=(1, 0, 0), exclude=1),
        "avg_divisor": desc(op="avg", spatial=(6, 6, 0), kernel=(3, 3, 0), divisor=-2),
        "max_3d_dilated": desc(dims=3, spatial=(5, 6, 7), kernel=(2, 2, 3), dilation=(2, 1, 2),
                               padding=(1, 1, 2), indices=2),
        "global_plane": desc(spatial=(7, 7, 0), kernel=(7, 7, 0)),
        "empty_batch": desc(n=0, c=3, spatial=(4, 4, 0)),
        "column_variant": desc(n=2, c=8, spatial=(20, 20, 0), kernel=(3, 3, 0), stride=(1, 1, 0)),
        "lp": desc(op="lp", spatial=(6, 6, 0), kernel=(3, 3, 0), p=2),
        "gem_padded": desc(op="gem", spatial=(6, 6, 0), kernel=(3, 3, 0), padding=(1, 1, 0), p=3),
        "mixed": desc(op="mixed", spatial=(5, 5, 0), kernel=(2, 2, 0), alpha=0.25, exclude=1),
        "softmax_dilated": desc(op="softmax", dims=1, spatial=(9, 0, 0), kernel=(3, 0, 0),
                                dilation=(2, 0, 0), beta=1.5),
        "stochastic_train": desc(op="stochastic", spatial=(6, 6, 0), kernel=(2, 2, 0), train=1,
                                 indices=1, seed=12345),
        "int8_avg": desc(op="avg", dtype="int8", spatial=(4, 4, 0), kernel=(2, 2, 0)),
        "nhwc_max": desc(layout="nhwc", c=3, spatial=(5, 5, 0), kernel=(3, 3, 0),
                         stride=(2, 2, 0), indices=1),
        "float16_max": desc(dtype="float16", spatial=(4, 4, 0)),
        # Each breaks one rule.
        "lp_padded": desc(op="lp", kernel=(3, 3, 0), padding=(1, 1, 0), p=2),
        "gem_p_zero": desc(op="gem", kernel=(2, 2, 0)),
        "mixed_alpha_over_1": desc(op="mixed", kernel=(2, 2, 0), alpha=1.5),
        "softmax_beta_inf": desc(op="softmax", kernel=(2, 2, 0), beta=float("inf")),
        "stochastic_train_2": desc(op="stochastic", kernel=(2, 2, 0), train=2),
        "stochastic_eval_indices": desc(op="stochastic", kernel=(2, 2, 0), indices=1),
        "int8_lp": desc(op="lp", dtype="int8", kernel=(2, 2, 0), p=2),
        "int64_input": desc(dtype="int64", kernel=(2, 2, 0)),
        "padding_over_half": desc(kernel=(2, 2, 0), padding=(2, 0, 0)),
        "avg_dilation": desc(op="avg", kernel=(2, 2, 0), dilation=(2, 1, 0)),
        "window_past_input": desc(spatial=(1, 1, 0), kernel=(2, 2, 0)),
        "avg_indices": desc(op="avg", indices=1),
        "max_divisor": desc(divisor=3),
        "zero_channels": desc(c=0),
        "elements_overflow": desc(n=2**32, c=2**32, spatial=(2, 2, 0)),
        "int32_indices_big_plane": desc(spatial=(65536, 65536, 0), indices=2),
        "kernel_over_limit": desc(spatial=(2**21, 2, 0), kernel=((1 << 20) + 1, 1, 0)),
    }


# ---- roi_plan: the encoding of fuzz_roi_plan.c ----------------------------


def roi_int(v):
    return bytes([v + 2]) if -2 <= v <= 13 else b"\xc0" + struct.pack("<i", v)


def roi_desc(op=1, n=2, c=3, h=8, w=8, out=(7, 7), k=4, nhwc=0, rois64=0, sampling=0,
             aligned=0, indices=0):
    b = b"\x00"  # even: the descriptor part
    b += bytes([op - 1, 0, 0x80 if nhwc else 0, 0])  # op, float32, layout, 2-D
    b += enc_size(n) + enc_size(c) + enc_size(h) + enc_size(w) + enc_size(0)
    b += roi_int(out[0]) + roi_int(out[1]) + enc_size(k)
    b += bytes([0x80 if rois64 else 0, 0])  # boxes dtype; scale 0: the default 1
    return b + roi_int(sampling) + roi_int(aligned) + roi_int(indices)


def roi_boxes(align, rois64, n, codes):
    """codes: 5 value codes per box (< 0x60: (code % 8) - 2; 0x60 + i: an edge)."""
    flags = (1 if align else 0) | (2 if rois64 else 0)
    return b"\x01" + bytes([flags, len(codes) // 5, n - 1, 0]) + bytes(codes)


def roi_plan_seeds():
    good = [2, 2, 2, 7, 7]  # batch 0, corners 0, 0, 5, 5
    return {
        "max_valid": roi_desc(),
        "max_int32_indices": roi_desc(indices=2),
        "align_adaptive": roi_desc(op=2, sampling=-1, aligned=1),
        "align_sampling_max": roi_desc(op=2, sampling=1024, nhwc=1),
        "align_sampling_too_many": roi_desc(op=2, sampling=1025),
        "max_with_aligned": roi_desc(aligned=1),
        "align_with_indices": roi_desc(op=2, indices=1),
        "no_samples_with_boxes": roi_desc(n=0),
        "float64_boxes": roi_desc(op=2, rois64=1),
        "one_bin_many_boxes": roi_desc(out=(1, 1), k=1000),
        "boxes_valid": roi_boxes(0, 0, 2, good * 3),
        "boxes_nan_batch": roi_boxes(1, 0, 2, good + [0x60] + good[1:]),
        "boxes_batch_n": roi_boxes(0, 1, 3, good + [0x60 + 9] + good[1:]),
        "boxes_just_below_n": roi_boxes(1, 0, 4, [0x60 + 12] + good[1:]),
        "boxes_minus_half": roi_boxes(0, 0, 1, [0x60 + 5] + good[1:]),
        "boxes_minus_one": roi_boxes(1, 1, 1, [0x60 + 4] + good[1:]),
        "boxes_inf_corners": roi_boxes(1, 0, 2, [2, 0x62, 0x63, 0x62, 0x61]),
    }


# ---- unpool: fuzz_unpool.c's decoder --------------------------------------


def unpool_seed(dtype=0, layout=0, dims=2, n=1, c=1, spatial=(2, 2, 2), kernel=(2, 2, 2),
                stride=(0, 0, 0), padding=(0, 0, 0), output_size=None, index_type=1,
                indices=()):
    """Small values only: every size, kernel, stride and padding below 6
    (output sizes below 12); indices are bytes, b % plane size below 0xF8,
    plane size - 2 + (b - 0xF8) up to 0xFB."""
    out = bytes([dtype, layout, dims - 1, n, 0, c]) + bytes(spatial)
    out += bytes(kernel) + bytes(stride) + bytes(padding)
    out += bytes([0x80]) + bytes(output_size) if output_size else bytes([0])
    return out + bytes([index_type]) + bytes(indices)


def unpool_seeds():
    return {
        # spec 7: x=[[1,2],[3,4]], idx=[[0,0],[5,5]], k=2
        "spec_duplicates": unpool_seed(indices=(0, 0, 5, 5)),
        "nhwc_1d_int32_size": unpool_seed(layout=1, dims=1, n=2, c=3, spatial=(5, 0, 0),
                                          kernel=(3, 0, 0), stride=(2, 0, 0),
                                          output_size=(10, 0, 0), index_type=2,
                                          indices=range(0, 60, 2)),
        "f16_3d_bad_index": unpool_seed(dtype=1, dims=3, c=2, spatial=(2, 2, 1),
                                        kernel=(2, 2, 2), indices=(1, 2, 3, 0xFA, 4, 5, 6, 7)),
        "u8_2d_padding": unpool_seed(dtype=2, n=2, c=2, spatial=(3, 4, 0), kernel=(3, 3, 0),
                                     stride=(2, 2, 0), padding=(1, 1, 0),
                                     indices=[i * 7 % 240 for i in range(48)]),
        "f64_size_out_of_range": unpool_seed(dtype=3, spatial=(3, 3, 0),
                                             output_size=(9, 3, 0)),
    }


def main():
    write_folder("npy", npy_seeds())
    write_folder("cache_entry", cache_entry_seeds())
    write_folder("window_plan", window_plan_seeds())
    write_folder("unpool", unpool_seeds())
    write_folder("roi_plan", roi_plan_seeds())


if __name__ == "__main__":
    main()
