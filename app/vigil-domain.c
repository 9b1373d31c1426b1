#include "vigil-domain.h"

/* Class names (REAL_NAME), checkpoint stems (ckpt/{few,zero}-shot/<stem>.pth)
 * and pixel-level flags (CLASS_INDEX > 0) follow MVFA's released code. Retinal
 * OCT uses the RESC checkpoint, the one trained with pixel masks (OCT2017's is
 * image-level only). The liver window is the usual abdominal soft-tissue
 * window, W 400 / L 60. */
static const VigilDomain domains[] = {
    {"brain-mri", "Brain MRI", "Brain", "Brain", TRUE, TRUE, 0, 0},
    {"liver-ct", "Liver CT", "Liver", "Liver", TRUE, FALSE, 60, 400},
    {"retinal-oct", "Retinal OCT", "retinal OCT", "Retina_RESC", TRUE, TRUE, 0, 0},
    {"chest-xray", "Chest X-ray", "Chest X-ray film", "Chest", FALSE, TRUE, 0, 0},
    {"histopathology", "Histopathology", "histopathological image", "Histopathology", FALSE, TRUE,
     0, 0},
    {NULL, NULL, NULL, NULL, FALSE, FALSE, 0, 0},
};

const VigilDomain *vigil_domains(void) {
  return domains;
}

const VigilDomain *vigil_domain_find(const char *id) {
  for (const VigilDomain *d = domains; id && d->id; d++)
    if (g_str_equal(d->id, id))
      return d;
  return NULL;
}
