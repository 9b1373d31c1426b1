#!/usr/bin/env python3
"""The coop GEMM's KHR module (shaders/spirv-nv-to-khr.py) against the NV one
glslang made. Debian 12's spirv-val predates SPV_KHR_cooperative_matrix, so
the checks are structural: the KHR module, translated back by an independent
inverse, must be the NV module word for word (which spirv-val checks in the
spirv-val-matmul_coop test); the types must carry the uses a GEMM needs
(A M x K, B K x N, accumulator M x N); the loads and stores the layouts of the
GLSL source; and bad input must be refused with a message.

Usage: test-spirv-khr.py TRANSLATOR NV.spv KHR.spv   (TAP on stdout)
"""
import importlib.util
import os
import struct
import subprocess
import sys
import tempfile

translator, nv_path, khr_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("nv2khr", translator)
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)

results = []


def check(desc, ok, detail=""):
    results.append((desc, bool(ok), detail))


nv = open(nv_path, "rb").read()
khr = open(khr_path, "rb").read()
nv_head, nv_insts = t.parse(nv)
khr_head, khr_insts = t.parse(khr)

# --- the inverse, written from the two extensions' encodings -----------------
consts = {i[2]: i[3] for i in khr_insts if i[0] == t.OP_CONSTANT}
true_id = next(i[2] for i in nv_insts if i[0] == t.OP_CONSTANT_TRUE)
false_id = next(i[2] for i in nv_insts if i[0] == t.OP_CONSTANT_FALSE)
added = set(range(nv_head[3], khr_head[3]))


def back(inst):
    op = inst[0]
    if op == t.OP_CAPABILITY and inst[1] == 6022:
        return [op, 5357]
    if op == t.OP_EXTENSION and t.decode_string(inst[1:]) == "SPV_KHR_cooperative_matrix":
        return [op] + t.encode_string("SPV_NV_cooperative_matrix")
    if op == 4456:
        return [5358] + inst[1:6]
    if op == 4457:
        return [5359, inst[1], inst[2], inst[3], inst[5], true_id if consts[inst[4]] else false_id] + inst[6:]
    if op == 4458:
        return [5360, inst[1], inst[2], inst[4], true_id if consts[inst[3]] else false_id] + inst[5:]
    if op in (4459, 4460):
        return [op + 902] + inst[1:]
    return inst


restored = [back(i) for i in khr_insts if not (i[0] == t.OP_CONSTANT and i[2] in added)]
check("translated back, the module is glslang's NV module word for word",
      t.serialise(nv_head, restored) == nv)
check("three ids added (the use and layout constants)", khr_head[3] == nv_head[3] + 3)
check("no NV cooperative-matrix instruction, capability or extension is left",
      not any(i[0] in range(5358, 5363) or (i[0] == t.OP_CAPABILITY and i[1] == 5357) for i in khr_insts)
      and b"SPV_NV_cooperative_matrix" not in khr)
check("CooperativeMatrixKHR capability and SPV_KHR_cooperative_matrix extension",
      any(i[0] == t.OP_CAPABILITY and i[1] == 6022 for i in khr_insts)
      and any(i[0] == t.OP_EXTENSION and t.decode_string(i[1:]) == "SPV_KHR_cooperative_matrix"
              for i in khr_insts))

# --- the types and their uses ---------------------------------------------------
position = {}
for n, i in enumerate(khr_insts):
    if i[0] in (t.OP_CONSTANT, t.OP_TYPE_INT) or i[0] == 4456:
        position[i[1] if i[0] != t.OP_CONSTANT else i[2]] = n
types = {i[1]: i for i in khr_insts if i[0] == 4456}
by_use = {consts.get(i[6]): i for i in types.values()}
check("three coop types: A, B and the accumulator", sorted(by_use) == [0, 1, 2] and len(types) == 3,
      "uses %s" % sorted(by_use))
check("every use is a constant declared before its type",
      all(i[6] in consts and position[i[6]] < position[i[1]] for i in types.values()))
if sorted(by_use) == [0, 1, 2]:
    a, b, acc = by_use[0], by_use[1], by_use[2]
    float_widths = {i[1]: i[2] for i in khr_insts if i[0] == 22}
    check("A and B are F16, the accumulator F32",
          float_widths.get(a[2]) == 16 and float_widths.get(b[2]) == 16 and float_widths.get(acc[2]) == 32)
    check("A is M x K, B K x N, the accumulator M x N (the same side ids)",
          a[5] == b[4] and a[4] == acc[4] and b[5] == acc[5])
    muladds = [i for i in khr_insts if i[0] == 4459]
    value_types = {i[2]: i[1] for i in khr_insts if i[0] in t.VALUE_OPS | {4457, 4459} and len(i) > 2}
    check("every MulAdd takes A, B and an accumulator and gives an accumulator",
          muladds and all(i[1] == acc[1] and [value_types.get(x) for x in i[3:6]] == [a[1], b[1], acc[1]]
                          for i in muladds), "%d MulAdds" % len(muladds))
    loads = {i[1]: consts.get(i[4]) for i in khr_insts if i[0] == 4457}
    stores = [consts.get(i[3]) for i in khr_insts if i[0] == 4458]
    check("A loads row-major, B column-major, the accumulator stores row-major (as in the GLSL)",
          loads == {a[1]: 0, b[1]: 1} and stores and set(stores) == {0}, "loads %s stores %s" % (loads, stores))

# --- bad input is refused with a message ----------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    def run(data):
        src = os.path.join(tmp, "in.spv")
        open(src, "wb").write(data)
        p = subprocess.run([sys.executable, translator, src, os.path.join(tmp, "out.spv")],
                           capture_output=True, text=True)
        return p.returncode, p.stderr

    rc, err = run(b"\x00" * 40)
    check("random bytes: exit 1, 'not a ... SPIR-V module'", rc == 1 and "SPIR-V module" in err, err)
    rc, err = run(nv[: len(nv) - 6])
    check("a cut-off module: exit 1 with a message", rc == 1 and "spirv-nv-to-khr:" in err, err)
    rc, err = run(khr)
    check("a module without NV coop: exit 1, says so", rc == 1 and "does not use" in err, err)
    # The same NV type as A and as B: B's operand retyped as A's.
    head, insts = t.parse(nv)
    muladd = next(i for i in insts if i[0] == 5361)
    defs = {i[2]: i for i in insts if i[0] in t.VALUE_OPS and len(i) > 2}
    a_type, b_value = defs[muladd[3]][1], muladd[4]
    swapped = [[i[0], a_type] + i[2:] if i[0] in t.VALUE_OPS and len(i) > 2 and i[2] == b_value else i
               for i in insts]
    rc, err = run(t.serialise(head, swapped))
    check("one type as both A and B: exit 1, says so", rc == 1 and "two of A, B" in err, err)

print("TAP version 13")
for n, (desc, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok and detail:
        print("# " + str(detail).replace("\n", "\n# "))
print("1..%d" % len(results))
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
