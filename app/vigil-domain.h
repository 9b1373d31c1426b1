/* The imaging domains MVFA was trained for: the class name its prompts use,
 * the checkpoint name it ships, and the window the model should see. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *id;            /* settings key and session value, e.g. "brain-mri" */
  const char *label;         /* what the user reads, e.g. "Brain MRI" */
  const char *class_name;    /* the {} in MVFA's prompts, e.g. "Brain" */
  const char *checkpoint;    /* MVFA's file name stem, e.g. "Brain" (Brain.pth) */
  gboolean pixel_level;      /* MVFA trained and evaluates pixel maps (CLASS_INDEX > 0) */
  gboolean window_from_file; /* use the scan's own/auto window (MR, OCT, X-ray, histology) */
  double window_center, window_width; /* otherwise this CT window */
} VigilDomain;

/* All known domains, terminated by an entry whose id is NULL. */
const VigilDomain *vigil_domains(void);
const VigilDomain *vigil_domain_find(const char *id);

G_END_DECLS
