#include "vg_weights_io.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vg_pth.h"
#include "vg_safetensors.h"

vg_weights_format vg_weights_sniff(const void *head, size_t len) {
  const unsigned char *b = head;
  if (len >= 4 && !memcmp(b, "PK\3\4", 4))
    return VG_WFMT_PTH;
  if (len >= 9) {
    uint64_t n = 0;
    for (int i = 8; i-- > 0;)
      n = n << 8 | b[i];
    if (n >= 2 && n <= VG_SAFETENSORS_MAX_HEADER && b[8] == '{')
      return VG_WFMT_SAFETENSORS;
  }
  /* Legacy torch.save starts with a pickle (PROTO 2) of its magic number. */
  if (len >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
    return VG_WFMT_PTH_LEGACY;
  return VG_WFMT_UNKNOWN;
}

vg_status vg_weights_open(const char *path, vg_weights **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return vg_fail(VG_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  unsigned char head[16];
  size_t len = fread(head, 1, sizeof head, f);
  fclose(f);
  switch (vg_weights_sniff(head, len)) {
  case VG_WFMT_SAFETENSORS: return vg_safetensors_open(path, out);
  case VG_WFMT_PTH: return vg_pth_open(path, out);
  case VG_WFMT_PTH_LEGACY:
    return vg_fail(VG_ERR_UNSUPPORTED,
                   "'%s': legacy .pth format not supported; re-save with torch.save(..., "
                   "_use_new_zipfile_serialization=True)",
                   path);
  case VG_WFMT_UNKNOWN: break;
  }
  return vg_fail(VG_ERR_FORMAT,
                 "'%s' is neither a safetensors file nor a PyTorch zip checkpoint (.pth)", path);
}
