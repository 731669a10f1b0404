#!/usr/bin/env python3
"""Writes tests/cli/bad_npy/: .npy files that `clpool run max --kernel 2`
must refuse with exit code 3, one line on stderr and no output file.

Each file is small, whatever its header claims. The test (test_cli.c,
tcase bad_npy_corpus) runs every *.npy of the folder; the fuzz target of the
reader (tests/fuzz/) also takes the folder as seeds. Re-run this script after
changing a case: python3 tests/cli/make_bad_npy.py
"""
import os
import struct
import sys

GOOD_DICT = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), }"
GOOD_DATA = bytes(64)  # 16 float32 zeros


def npy(dict_text, data=b"", major=1, pad=True, header_len=None):
    """A .npy with any version and dict text, padded as NumPy pads it."""
    body = dict_text.encode("latin-1") if isinstance(dict_text, str) else dict_text
    pre = 10 if major == 1 else 12
    if pad:
        total = (pre + len(body) + 1 + 63) // 64 * 64
        body = body + b" " * (total - pre - len(body) - 1) + b"\n"
    length = len(body) if header_len is None else header_len
    fmt = "<H" if major == 1 else "<I"
    return b"\x93NUMPY" + bytes([major, 0]) + struct.pack(fmt, length) + body + data


def shaped(shape_text, descr="<f4", data=GOOD_DATA, order="False"):
    return npy(f"{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_text}, }}", data)


GOOD = npy(GOOD_DICT, GOOD_DATA)

CASES = {
    # The file itself.
    "empty": b"",
    "truncated_preamble": GOOD[:9],
    "truncated_header": GOOD[:40],
    "truncated_data": GOOD[:-1],
    "data_too_long": GOOD + b"\0\0\0\0",
    "wrong_magic": b"\x93NUMPZ" + GOOD[6:],
    "text_file": b"0.0 1.0 2.0 3.0\n" * 8,
    "version_4_0": GOOD[:6] + b"\x04\x00" + GOOD[8:],
    "version_1_1": GOOD[:6] + b"\x01\x01" + GOOD[8:],
    "header_len_past_end": npy(GOOD_DICT, GOOD_DATA, header_len=0xFFFF),
    "header_len_over_limit_v3": npy(GOOD_DICT, GOOD_DATA, major=3, header_len=0xFFFFFFFF),
    "header_len_zero": npy(b"", GOOD_DATA, pad=False),
    # The header dict.
    "not_a_dict": npy("['descr', '<f4']", GOOD_DATA),
    "unterminated_dict": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), ",
                             GOOD_DATA),
    "unterminated_string": npy("{'descr': '<f4", GOOD_DATA),
    "nul_in_header": npy(b"{'descr': '<f4\0', 'fortran_order': False, 'shape': (1, 1, 4, 4), }",
                         GOOD_DATA),
    "non_ascii_in_header": npy("{'descr': '<f\u00e9', 'fortran_order': False, "
                               "'shape': (1, 1, 4, 4), }", GOOD_DATA),
    "escape_in_string": npy("{'descr': '<f\\x34', 'fortran_order': False, "
                            "'shape': (1, 1, 4, 4), }", GOOD_DATA),
    "extra_text": npy(GOOD_DICT + " x", GOOD_DATA),
    "missing_fortran_order": npy("{'descr': '<f4', 'shape': (1, 1, 4, 4), }", GOOD_DATA),
    "missing_shape": npy("{'descr': '<f4', 'fortran_order': False, }", GOOD_DATA),
    "unknown_key": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), "
                       "'x': 1}", GOOD_DATA),
    "duplicate_key": npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                         "'shape': (1, 1, 4, 4)}", GOOD_DATA),
    "long_key": npy("{'" + "k" * 100 + "': 1}", GOOD_DATA),
    "fortran_order_not_bool": shaped("(1, 1, 4, 4)", order="0"),
    # dtypes.
    "big_endian_dtype": shaped("(1, 1, 4, 4)", descr=">f4"),
    "object_dtype": shaped("(1, 1, 4, 4)", descr="|O", data=bytes(128)),
    "complex_dtype": shaped("(1, 1, 4, 4)", descr="<c8", data=bytes(128)),
    "unicode_dtype": shaped("(1, 1, 4, 4)", descr="<U1"),
    "long_descr": shaped("(1, 1, 4, 4)", descr="<f4" * 20),
    "structured_dtype": npy("{'descr': [('a', '<f4')], 'fortran_order': False, "
                            "'shape': (1, 1, 4, 4), }", GOOD_DATA),
    "int64_input": shaped("(1, 1, 4, 4)", descr="<i8", data=bytes(128)),
    "fortran_order": shaped("(1, 1, 4, 4)", order="True"),
    # Shapes.
    "shape_not_a_tuple": shaped("(16)"),
    "shape_negative": shaped("(1, -1, 4, 4)"),
    "shape_leading_zero": shaped("(01, 1, 4, 4)"),
    "shape_float": shaped("(1, 1, 4.0, 4)"),
    "shape_33_dims": shaped("(" + ", ".join(["1"] * 33) + ")", data=bytes(4)),
    "huge_shape": shaped("(1000000, 1000000, 1000, 1000)"),
    "count_overflows_size_t": shaped("(4294967296, 4294967296, 2)"),
    "bytes_overflow_size_t": shaped("(4611686018427387904, 1, 1)"),
    "dim_overflows_size_t": shaped("(1, 1, 99999999999999999999999)"),
    "empty_but_overflows": shaped("(0, 4294967296, 4294967296, 2)", data=b""),
    # Good files whose shape defines no pooling with --kernel 2.
    "rank_2": shaped("(4, 4)"),
    "rank_6": shaped("(1, 1, 1, 1, 4, 4)"),
    "zero_channels": shaped("(1, 0, 4, 4)", data=b""),
    "zero_height": shaped("(1, 1, 0, 4)", data=b""),
    "smaller_than_kernel": shaped("(1, 1, 1, 1)", data=bytes(4)),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "bad_npy")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".npy"):
            os.remove(os.path.join(folder, name))
    for name, content in CASES.items():
        with open(os.path.join(folder, name + ".npy"), "wb") as f:
            f.write(content)
    print(f"wrote {len(CASES)} files to {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
