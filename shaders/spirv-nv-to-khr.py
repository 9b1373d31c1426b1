#!/usr/bin/env python3
"""Rewrites a SPIR-V module written against SPV_NV_cooperative_matrix into the
same module against SPV_KHR_cooperative_matrix.

Why: the coop GEMM (matmul_coop.comp) must also run where a driver exposes only
VK_KHR_cooperative_matrix (AMD, Intel, Arm), but Debian 12's glslang (12.0.0)
predates GL_KHR_cooperative_matrix. The two SPIR-V extensions differ only in
encoding, so the NV module glslang makes is translated word by word:

  Capability CooperativeMatrixNV (5357)      -> CooperativeMatrixKHR (6022)
  Extension "SPV_NV_cooperative_matrix"      -> "SPV_KHR_cooperative_matrix"
  TypeCooperativeMatrixNV  T S R C           -> TypeCooperativeMatrixKHR T S R C Use
  CooperativeMatrixLoadNV  p stride colmajor -> CooperativeMatrixLoadKHR p layout stride
  CooperativeMatrixStoreNV p o stride colmaj -> CooperativeMatrixStoreKHR p o layout stride
  CooperativeMatrixMulAddNV a b c            -> CooperativeMatrixMulAddKHR a b c
  CooperativeMatrixLengthNV T                -> CooperativeMatrixLengthKHR T

A KHR type also names its Use (MatrixA 0, MatrixB 1, Accumulator 2). It is
read off the MulAdds: the type of their first operand is A, of the second B,
of the third and the result the accumulator. A type found in two roles, or in
none, is refused (the shader would then need distinct types per role; glslang
gives ours distinct types because their sides are different spec constants).
The column-major booleans must be OpConstantTrue/False; they become layout
constants (RowMajor 0, ColumnMajor 1). Memory operands carry over unchanged.
Three uint constants (0, 1, 2) are added right before the first coop type.

Usage: spirv-nv-to-khr.py IN.spv OUT.spv [--header OUT.h --name C_NAME]
"""
import struct
import sys

MAGIC = 0x07230203
OP_EXTENSION, OP_CAPABILITY = 10, 17
OP_TYPE_INT, OP_CONSTANT_TRUE, OP_CONSTANT_FALSE, OP_CONSTANT = 21, 41, 42, 43
NV_TYPE, NV_LOAD, NV_STORE, NV_MULADD, NV_LENGTH = 5358, 5359, 5360, 5361, 5362
KHR_TYPE, KHR_LOAD, KHR_STORE, KHR_MULADD, KHR_LENGTH = 4456, 4457, 4458, 4459, 4460
CAP_NV, CAP_KHR = 5357, 6022
USE_A, USE_B, USE_ACC = 0, 1, 2
# Instructions whose words are (result type, result id, ...): what may define
# an operand of a MulAdd.
VALUE_OPS = {1, 57, 61, 80, 81, 83, 169, 245, NV_LOAD, NV_MULADD}


class TranslateError(Exception):
    pass


def encode_string(s):
    b = s.encode() + b"\0"
    b += b"\0" * (-len(b) % 4)
    return list(struct.unpack("<%dI" % (len(b) // 4), b))


def decode_string(words):
    b = struct.pack("<%dI" % len(words), *words)
    return b[: b.index(b"\0")].decode()


def parse(data):
    if len(data) % 4 or len(data) < 20:
        raise TranslateError("not a SPIR-V module (size %d)" % len(data))
    words = list(struct.unpack("<%dI" % (len(data) // 4), data))
    if words[0] != MAGIC:
        raise TranslateError("not a little-endian SPIR-V module (magic %#x)" % words[0])
    insts, i = [], 5
    while i < len(words):
        count, op = words[i] >> 16, words[i] & 0xFFFF
        if count == 0 or i + count > len(words):
            raise TranslateError("truncated instruction at word %d" % i)
        insts.append([op] + words[i + 1 : i + count])
        i += count
    return words[:5], insts


def serialise(header, insts):
    out = list(header)
    for inst in insts:
        out.append((len(inst) << 16) | inst[0])
        out.extend(inst[1:])
    return struct.pack("<%dI" % len(out), *out)


def roles_of_types(insts):
    """{NV type id: use}, from the MulAdds' operand and result types."""
    defs = {inst[2]: inst for inst in insts if inst[0] in VALUE_OPS and len(inst) > 2}
    nv_types = {inst[1] for inst in insts if inst[0] == NV_TYPE}
    roles = {}

    def assign(type_id, use, what):
        if type_id not in nv_types:
            raise TranslateError("%s of a MulAdd is not a cooperative matrix" % what)
        if roles.setdefault(type_id, use) != use:
            raise TranslateError("type %%%d is used as two of A, B and the accumulator" % type_id)

    for inst in insts:
        if inst[0] != NV_MULADD:
            continue
        assign(inst[1], USE_ACC, "the result")
        for operand, use, what in zip(inst[3:6], (USE_A, USE_B, USE_ACC), "ABC"):
            d = defs.get(operand)
            if d is None:
                raise TranslateError("operand %s (%%%d) of a MulAdd has no known type" % (what, operand))
            assign(d[1], use, "operand " + what)
    missing = nv_types - roles.keys()
    if missing:
        raise TranslateError("coop types %s are never used by a MulAdd" % sorted(missing))
    return roles


def translate(data):
    header, insts = parse(data)
    if not any(i[0] == OP_CAPABILITY and i[1] == CAP_NV for i in insts):
        raise TranslateError("the module does not use SPV_NV_cooperative_matrix")
    roles = roles_of_types(insts)
    uint = next((i[1] for i in insts if i[0] == OP_TYPE_INT and i[2:] == [32, 0]), None)
    first_type = next(n for n, i in enumerate(insts) if i[0] == NV_TYPE)
    uint_at = next((n for n, i in enumerate(insts) if i[0] == OP_TYPE_INT and i[1] == uint), None)
    if uint is None or uint_at > first_type:
        raise TranslateError("no 32-bit uint type declared before the coop types")
    bools = {i[2]: i[0] == OP_CONSTANT_TRUE for i in insts if i[0] in (OP_CONSTANT_TRUE, OP_CONSTANT_FALSE)}
    bound = header[3]
    const = {v: bound + v for v in (0, 1, 2)}  # value -> new id
    header = header[:3] + [bound + 3] + header[4:]

    def layout(colmajor_id):
        if colmajor_id not in bools:
            raise TranslateError("a column-major operand (%%%d) is not a boolean constant" % colmajor_id)
        return const[1 if bools[colmajor_id] else 0]

    out = []
    for n, inst in enumerate(insts):
        op = inst[0]
        if n == first_type:
            out += [[OP_CONSTANT, uint, const[v], v] for v in (0, 1, 2)]
        if op == OP_CAPABILITY and inst[1] == CAP_NV:
            inst = [op, CAP_KHR]
        elif op == OP_EXTENSION and decode_string(inst[1:]) == "SPV_NV_cooperative_matrix":
            inst = [op] + encode_string("SPV_KHR_cooperative_matrix")
        elif op == NV_TYPE:
            inst = [KHR_TYPE] + inst[1:6] + [const[roles[inst[1]]]]
        elif op == NV_LOAD:  # type, id, pointer, stride, colmajor, memory operands
            inst = [KHR_LOAD, inst[1], inst[2], inst[3], layout(inst[5]), inst[4]] + inst[6:]
        elif op == NV_STORE:  # pointer, object, stride, colmajor, memory operands
            inst = [KHR_STORE, inst[1], inst[2], layout(inst[4]), inst[3]] + inst[5:]
        elif op == NV_MULADD:
            inst = [KHR_MULADD] + inst[1:]
        elif op == NV_LENGTH:
            inst = [KHR_LENGTH] + inst[1:]
        out.append(inst)
    return serialise(header, out)


def c_header(data, name):
    words = struct.unpack("<%dI" % (len(data) // 4), data)
    lines = [",".join("0x%08x" % w for w in words[i : i + 8]) for i in range(0, len(words), 8)]
    return ("// Generated by shaders/spirv-nv-to-khr.py\n#pragma once\n#include <stdint.h>\n"
            "const uint32_t %s[] = {\n\t%s\n};\n" % (name, ",\n\t".join(lines)))


def main(argv):
    args = argv[1:]
    header = name = None
    if "--header" in args:
        i = args.index("--header")
        header = args[i + 1]
        del args[i : i + 2]
    if "--name" in args:
        i = args.index("--name")
        name = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2 or (header is None) != (name is None):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as f:
            result = translate(f.read())
    except (OSError, TranslateError) as e:
        print("spirv-nv-to-khr: %s: %s" % (args[0], e), file=sys.stderr)
        return 1
    with open(args[1], "wb") as f:
        f.write(result)
    if header:
        with open(header, "w") as f:
            f.write(c_header(result, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
