/* Where the files Vigil ships (the CLIP vocabulary) are read from, installed
 * or not, and where the user's model folder is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The path of `relative` (e.g. "clip/bpe_simple_vocab_16e6.txt.gz") in the
 * first of: $VIGIL_DATA_DIR; the data folder beside the running executable
 * (<bindir>/../share/vigil, so a tree installed with --destdir or moved
 * elsewhere finds its own data); the configured prefix's data folder; and,
 * for an executable run from the build tree only, the build tree's copy.
 * When none has it, the first candidate, so a message names a real place. */
char *vigil_data_path(const char *relative);

/* The user's model folder: $VIGIL_MODEL_DIR, else $XDG_DATA_HOME/vigil/models. */
char *vigil_data_model_dir(void);

G_END_DECLS
