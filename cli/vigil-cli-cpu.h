/* The CPU backend's GEMM choice and BF16 support, for devices and bench
 * (cpu-info.c): what runs the matmuls here and why. */
#pragma once

#include <json-glib/json-glib.h>

/* Lines "  gemm: dnnl (probe ...)", "  onednn: ..., bf16: yes" on stdout. */
void vigil_cli_cpu_print(void);
/* Members gemm, gemm_how, gemm_gflops {own, openblas, dnnl}, onednn, bf16
 * and bf16_why (null where BF16 runs) of the object being built. */
void vigil_cli_cpu_json(JsonBuilder *b);
