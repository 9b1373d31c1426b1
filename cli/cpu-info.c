/* The choice is made once per process, when the first CPU backend opens; a
 * process that has not opened one makes it here with OpenBLAS's threads. */
#include "vigil-cli-cpu.h"

#include <cblas.h>
#include <stdio.h>

#include "vg_cpu_gemm.h"
#include "vg_dnnl.h"
#include "vigil-cli.h"

static const vg_cpu_gemm_choice *choice(void) {
  return vg_cpu_gemm_choose(openblas_get_num_threads());
}

void vigil_cli_cpu_print(void) {
  const vg_cpu_gemm_choice *c = choice();
  const char *why = NULL;
  const int bf16 = vg_dnnl_bf16(&why);
  printf("  gemm: %s (%s)\n  %s; BF16 matmuls: %s%s\n", vg_cpu_gemm_name(c->kind), c->how,
         vg_dnnl_describe(), bf16 ? "yes" : "no, ", bf16 ? "" : why);
}

void vigil_cli_cpu_json(JsonBuilder *b) {
  const vg_cpu_gemm_choice *c = choice();
  vigil_cli_json_add_string(b, "gemm", vg_cpu_gemm_name(c->kind));
  vigil_cli_json_add_string(b, "gemm_how", c->how);
  json_builder_set_member_name(b, "gemm_gflops");
  json_builder_begin_object(b);
  for (int k = 0; k < VG_CPU_GEMM_KINDS; k++) {
    json_builder_set_member_name(b, vg_cpu_gemm_name((vg_cpu_gemm_kind)k));
    if (c->gflops[k] > 0)
      json_builder_add_double_value(b, c->gflops[k]);
    else
      json_builder_add_null_value(b);
  }
  json_builder_end_object(b);
  vigil_cli_json_add_string(b, "onednn", vg_dnnl_built() ? vg_dnnl_describe() : NULL);
  const char *why = NULL;
  const int bf16 = vg_dnnl_bf16(&why);
  json_builder_set_member_name(b, "bf16");
  json_builder_add_boolean_value(b, bf16);
  vigil_cli_json_add_string(b, "bf16_why", bf16 ? NULL : why);
}
